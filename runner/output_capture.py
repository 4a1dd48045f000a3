"""Where a run's output goes: every byte to the log file, the tail in memory, text to a listener.

Memory stays bounded however much the script prints: only the last 64 KiB are kept.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable
from pathlib import Path

TAIL_BYTES = 64 * 1024


class OutputCapture:
    def __init__(self, log_path: Path, on_output: Callable[[str], None] | None = None) -> None:
        self._log = open(log_path, "wb")  # noqa: SIM115 - held open across feed() calls, closed by close()
        self._on_output = on_output
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._tail = bytearray()

    def feed(self, data: bytes) -> None:
        self._log.write(data)
        self._tail += data
        if len(self._tail) > 2 * TAIL_BYTES:  # trim in batches, not on every chunk
            del self._tail[: len(self._tail) - TAIL_BYTES]
        if self._on_output is not None:
            text = self._decoder.decode(data)
            if text:
                self._on_output(text)

    def close(self) -> None:
        if self._on_output is not None:
            rest = self._decoder.decode(b"", final=True)
            if rest:
                self._on_output(rest)
        self._log.close()

    @property
    def tail(self) -> str:
        """The last 64 KiB, decoded (a character cut at the start becomes U+FFFD)."""
        return bytes(self._tail[-TAIL_BYTES:]).decode("utf-8", errors="replace")
