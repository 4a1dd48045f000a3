"""Where a run's output goes: the log file (head and tail past a cap), the tail in memory, text to a listener.

Memory stays bounded however much the script prints: only the last 64 KiB are
kept for the verdict, and past ``LOG_HEAD`` bytes the log keeps only its last
``LOG_TAIL`` bytes, written after a line that says how much was dropped.
"""

from __future__ import annotations

import codecs
import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

TAIL_BYTES = 64 * 1024
LOG_HEAD = 16 * 1024 * 1024
LOG_TAIL = 16 * 1024 * 1024


class OutputCapture:
    def __init__(self, log_path: Path, on_output: Callable[[str], None] | None = None) -> None:
        self._log: BinaryIO | None = open(log_path, "wb")  # noqa: SIM115 - held open across feed() calls, closed by close()
        self._on_output = on_output
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._tail = bytearray()
        self._written = 0  # bytes of the head in the log file
        self._log_tail = bytearray()  # past the head: the last LOG_TAIL bytes, written at close
        self._dropped = 0
        self.notes: list[str] = []  # for the run record: output dropped, a log that could not be finished

    def feed(self, data: bytes) -> None:
        self._to_log(data)
        self._tail += data
        if len(self._tail) > 2 * TAIL_BYTES:  # trim in batches, not on every chunk
            del self._tail[: len(self._tail) - TAIL_BYTES]
        if self._on_output is not None:
            text = self._decoder.decode(data)
            if text:
                self._on_output(text)

    def _to_log(self, data: bytes) -> None:
        room = LOG_HEAD - self._written
        if room > 0:
            self._write(data[:room])
            self._written += min(room, len(data))
            data = data[room:]
        if data:
            self._log_tail += data
            if len(self._log_tail) > 2 * LOG_TAIL:
                cut = len(self._log_tail) - LOG_TAIL
                self._dropped += cut
                del self._log_tail[:cut]

    def _write(self, data: bytes) -> None:
        """Write to the log; a full disk ends the log, never the run (its verdict is still stored)."""
        if self._log is None:
            return
        try:
            self._log.write(data)
        except OSError as exc:
            self.notes.append(f"{self._log.name}: the log could not be finished ({exc.strerror}); output was lost")
            self._close_log()

    def _close_log(self) -> None:
        log, self._log = self._log, None
        if log is not None:
            with contextlib.suppress(OSError):
                log.close()

    def close(self) -> None:
        if self._on_output is not None:
            rest = self._decoder.decode(b"", final=True)
            if rest:
                self._on_output(rest)
        if len(self._log_tail) > LOG_TAIL:
            self._dropped += len(self._log_tail) - LOG_TAIL
            del self._log_tail[: len(self._log_tail) - LOG_TAIL]
        if self._dropped:
            note = f"nodefix: {self._dropped} bytes of output dropped here (the log keeps its head and tail)"
            self.notes.append(note)
            self._write(f"\n[{note}]\n".encode())
        self._write(bytes(self._log_tail))
        if self._log is not None:
            try:
                self._log.flush()
            except OSError as exc:
                self.notes.append(f"{self._log.name}: the log could not be finished ({exc.strerror})")
            self._close_log()

    @property
    def tail(self) -> str:
        """The last 64 KiB, decoded (a character cut at the start becomes U+FFFD)."""
        return bytes(self._tail[-TAIL_BYTES:]).decode("utf-8", errors="replace")
