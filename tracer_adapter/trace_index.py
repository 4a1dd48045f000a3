"""A line index over a CWM trace file, built in one streaming pass and saved beside the trace.

A trace line is one text line of the raw tracer output, exactly as printed.
Most lines start with ``<|frame_sep|>`` and carry one event (call, line, return,
exception). A return or exception frame's value starts the next text line
(``<|arg_sep|>"value"<|frame_sep|>``) because the frame's source line ends with
a newline; that continuation line usually carries the next event too. So a line
has at most one event, and may start with the previous frame's value.

The index keeps, per line: byte offset, event kind, frame (event) number, call
depth, source line number (matched against the traced code, when known),
where the locals JSON and the source text begin, the source text's id and the
call line of the invocation the event belongs to. It is saved as
``<trace>.idx`` (an uncompressed ``.npz`` with the trace's size and mtime) and
reused while the trace is unchanged.
"""

from __future__ import annotations

import ast
import hashlib
import mmap
import os
import re
import threading
import zipfile
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tracer_adapter.cwm_tracer import (
    ACTION_SEP,
    ARG_SEP,
    CALL_SEP,
    EXCEPTION_SEP,
    FRAME_SEP,
    LINE_SEP,
    NOTE_PREFIX,
    RETURN_SEP,
)
from workspace.errors import InputError

# Line kinds. An "arg" line holds only the previous frame's value, "end" is a
# bare closing <|frame_sep|>, "other" is text that is not in the CWM format.
KINDS = ("call", "line", "return", "exception", "arg", "end", "other")
CALL, LINE, RETURN, EXCEPTION, ARG, END, OTHER = range(len(KINDS))
EVENT_KINDS = (CALL, LINE, RETURN, EXCEPTION)

INDEX_SUFFIX = ".idx"
CODE_SUFFIX = ".code.py"  # the traced code, kept beside the trace to number its source lines
INDEX_VERSION = 2  # 2: invocations cut from their call get scopes of their own

_FRAME = FRAME_SEP.encode()
_ACTION = ACTION_SEP.encode()
_ARG = ARG_SEP.encode()
_FRAME_LEN, _ACTION_LEN, _ARG_LEN = len(_FRAME), len(_ACTION), len(_ARG)
_EVENT_TOKENS = (
    (CALL_SEP.encode(), CALL),
    (LINE_SEP.encode(), LINE),
    (RETURN_SEP.encode(), RETURN),
    (EXCEPTION_SEP.encode(), EXCEPTION),
)
# The event tokens differ in their first 3 bytes ("<|c", "<|l", ...): a dict lookup picks the candidate.
_HEAD_KEY = 3
_EVENT_BY_HEAD = {token[:_HEAD_KEY]: (token, kind) for token, kind in _EVENT_TOKENS}
_LONGEST_EVENT = max(len(token) for token, _ in _EVENT_TOKENS)
_CUT_NOTE = NOTE_PREFIX.rstrip().encode()  # the built-in tracer's note where it cut frames or stopped
_JSON_STRING = re.compile(rb'"[^"\\\n]*(?:\\.[^"\\\n]*)*"')
_SCAN_CHUNK = 32 << 20
_REPORT_EVERY = 1 << 16
_MATCH_BATCH = 1024


class IndexCancelled(Exception):
    """Building an index stopped because its cancel event was set."""


@dataclass(frozen=True)
class LineInfo:
    frame: int  # number of the event on this line (0-based); lines without one: the frame they close
    kind: str  # one of KINDS
    depth: int  # call depth: 0 for the first traced call
    source_lineno: int | None  # line of the traced code, when the code is known
    carries_value: bool = False  # starts with the <|arg_sep|> value of the previous frame


def holds_line(text: mmap.mmap | bytes, line: str) -> bool:
    """Whether ``line`` is exactly one whole line of ``text`` (a trace's bytes)."""
    needle = line.encode("utf-8", "surrogatepass")
    if b"\n" in needle:
        return False
    n, size = len(needle), len(text)
    if text[:n] == needle and text[n : n + 1] in (b"", b"\n"):
        return True
    if text.find(b"\n" + needle + b"\n") >= 0:
        return True
    return size > n and text[size - n - 1 :] == b"\n" + needle


def index_path(trace_path: Path) -> Path:
    return Path(str(trace_path) + INDEX_SUFFIX)


def code_path(trace_path: Path) -> Path:
    return Path(str(trace_path) + CODE_SUFFIX)


class TraceIndex:
    """Random access, search and navigation over one trace file."""

    def __init__(self, path: Path, arrays: dict[str, np.ndarray], sources: list[bytes]) -> None:
        self.path = path
        self._starts = arrays["starts"]
        self._kind = arrays["kind"]
        self._carries = arrays["carries"]
        self._frame = arrays["frame"]
        self._depth = arrays["depth"]
        self._lineno = arrays["lineno"]
        self._body = arrays["body"]
        self._action = arrays["action"]
        self._source = arrays["source"]
        self._scope = arrays["scope"]
        self._sources = sources
        self._source_ids = {text: i for i, text in enumerate(sources)}
        self._size = int(arrays["header"][1])
        self._fd = os.open(path, os.O_RDONLY)
        self._mm = mmap.mmap(self._fd, 0, access=mmap.ACCESS_READ) if self._size else None

    # -- opening -----------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        trace_path: Path,
        progress: Callable[[float], None] | None = None,
        cancel: threading.Event | None = None,
        code: str | None = None,
    ) -> TraceIndex:
        """Load ``trace_path.idx`` if it matches the trace, else build it and save it.

        ``code`` is the traced code, for source line numbers; by default it is read
        from ``<trace>.code.py`` when that file exists.
        """
        trace_path = Path(trace_path)
        if code is None and code_path(trace_path).is_file():
            code = code_path(trace_path).read_text(encoding="utf-8", errors="replace")
        code_sha = hashlib.sha256(code.encode("utf-8", "surrogatepass")).hexdigest() if code is not None else ""
        try:
            stat = os.stat(trace_path)
        except FileNotFoundError:
            raise InputError(f"{trace_path}: trace file not found") from None
        arrays = _load_saved(index_path(trace_path), stat, code_sha)
        if arrays is None:
            arrays = _build(trace_path, stat, code, code_sha, progress, cancel)
            _save(index_path(trace_path), arrays)
        if progress is not None:
            progress(1.0)
        return cls(trace_path, arrays, _split_blob(arrays["source_blob"], arrays["source_offsets"]))

    def close(self) -> None:
        if self._mm is not None:
            self._mm.close()
            self._mm = None
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> TraceIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- lines -------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._kind)

    def line(self, i: int) -> str:
        """Line ``i`` exactly as printed, without its newline."""
        return self.line_bytes(i).decode("utf-8", errors="replace")

    def line_bytes(self, i: int) -> bytes:
        if not 0 <= i < len(self):
            raise IndexError(f"trace line {i} out of range (0..{len(self) - 1})")
        start = int(self._starts[i])
        return os.pread(self._fd, int(self._starts[i + 1]) - 1 - start, start)

    def lines(self, start: int, stop: int) -> list[str]:
        start, stop = max(start, 0), min(stop, len(self))
        if start >= stop:
            return []
        first = int(self._starts[start])
        data = os.pread(self._fd, int(self._starts[stop]) - 1 - first, first)
        return data.decode("utf-8", errors="replace").split("\n")

    def info(self, i: int) -> LineInfo:
        if not 0 <= i < len(self):
            raise IndexError(f"trace line {i} out of range (0..{len(self) - 1})")
        lineno = int(self._lineno[i])
        return LineInfo(
            frame=int(self._frame[i]),
            kind=KINDS[self._kind[i]],
            depth=int(self._depth[i]),
            source_lineno=lineno or None,
            carries_value=bool(self._carries[i]),
        )

    @property
    def frame_count(self) -> int:
        """Number of events (CWM frames) in the trace."""
        return int(np.count_nonzero(self._kind <= EXCEPTION))

    @property
    def size(self) -> int:
        return self._size

    # -- search and navigation -----------------------------------------------------------------

    def find(self, text: str, start: int = 0, backwards: bool = False) -> int | None:
        """The first line at or after ``start`` (at or before it when ``backwards``) containing ``text``."""
        needle = text.encode("utf-8")
        if not needle or b"\n" in needle or self._mm is None:
            return None
        if backwards:
            if start < 0:
                return None
            end = int(self._starts[min(start, len(self) - 1) + 1]) - 1
            pos = self._mm.rfind(needle, 0, end)
        else:
            if start >= len(self):
                return None
            pos = self._mm.find(needle, int(self._starts[max(start, 0)]))
        return self._line_at(pos) if pos >= 0 else None

    def has_line(self, text: str) -> bool:
        """Whether ``text`` is exactly one whole line of the trace."""
        return self._mm is not None and holds_line(self._mm, text)

    def lines_containing(self, text: str, limit: int) -> list[int]:
        """Up to ``limit`` lines containing ``text``, in trace order."""
        needle = text.encode("utf-8", "surrogatepass")
        found: list[int] = []
        if not needle or b"\n" in needle or self._mm is None:
            return found
        pos = self._mm.find(needle)
        while pos >= 0 and len(found) < limit:
            i = self._line_at(pos)
            found.append(i)
            pos = self._mm.find(needle, int(self._starts[i + 1]))
        return found

    def lines_with_source(self, source: str) -> np.ndarray:
        """Event lines whose source text (after ``<|action_sep|>``) is exactly ``source``."""
        sid = self._source_ids.get(source.encode("utf-8", "surrogatepass"))
        if sid is None:
            return np.empty(0, dtype=np.int64)
        return np.flatnonzero(self._source == sid)

    def event_lines_at(self, lineno: int) -> np.ndarray:
        """Event lines that run source line ``lineno`` (none when the code is unknown)."""
        return np.flatnonzero((self._lineno == lineno) & (self._kind <= EXCEPTION))

    def source_texts(self) -> list[str]:
        """The distinct source texts that events of this trace show."""
        return [text.decode("utf-8", errors="replace") for text in self._sources]

    def first_exception(self) -> int | None:
        return _first(self._kind == EXCEPTION)

    def crash_line(self) -> int | None:
        """The exception event where the exception that ends the trace was raised, None if it does not end raising.

        From the trace's last event (the entry's exception, or the return that
        follows it) back through each callee's exception-and-return pair to the
        deepest one: the line that raised, or that called into the library that did.
        """
        events = np.flatnonzero(self._kind <= EXCEPTION)
        e = len(events) - 1
        if e >= 1 and self._kind[events[e]] == RETURN:
            e -= 1
        if e < 0 or self._kind[events[e]] != EXCEPTION:
            return None
        kind, depth = self._kind, self._depth
        while e >= 2:
            below, raised = events[e - 1], events[e - 2]
            deeper = depth[events[e]] + 1
            if not (kind[below] == RETURN and kind[raised] == EXCEPTION and depth[below] == depth[raised] == deeper):
                break
            e -= 2
        return int(events[e])

    def final_return(self) -> int | None:
        """The line of the outermost invocation's last return event (its value starts the next line)."""
        events = np.flatnonzero(self._kind == RETURN)
        if not len(events):
            return None
        outermost = events[self._depth[events] == self._depth[events].min()]
        return int(outermost[-1])

    def invocation_lines(self, i: int) -> np.ndarray:
        """The call and line events of the invocation that line ``i`` belongs to, up to line ``i``."""
        scope = self._scope[: i + 1]
        return np.flatnonzero((scope == self._scope[i]) & (self._kind[: i + 1] <= LINE))

    def call_chain(self, i: int) -> list[int]:
        """For line ``i``'s invocation and each one enclosing it: its latest call or line event, outermost first."""
        chain: list[int] = []
        while i >= 0:
            own = self.invocation_lines(i)
            if not len(own):
                break
            chain.append(int(own[-1]))
            call = int(self._scope[i])
            if call <= 0 or self._kind[call] != CALL:
                break
            outer = np.flatnonzero((self._kind[:call] <= LINE) & (self._depth[:call] == self._depth[call] - 1))
            if not len(outer):
                break
            i = int(outer[-1])
        return chain[::-1]

    def next_source_line(self, lineno: int, start: int) -> int | None:
        """The first event line at or after ``start`` that runs source line ``lineno``."""
        start = max(start, 0)
        hit = _first((self._lineno[start:] == lineno) & (self._kind[start:] <= EXCEPTION))
        return None if hit is None else start + hit

    def next_change(self, variable: str, start: int) -> int | None:
        """The next line after ``start``, in the same invocation, whose locals give ``variable`` another value.

        The value compared against is the one in the latest locals at or before
        ``start`` in that invocation (absent counts as a value: the first line
        that shows the variable is a change).
        """
        if not 0 <= start < len(self) - 1 or self._mm is None:
            return None
        scope = int(self._scope[start])
        key = re.escape(b'"' + variable.encode("utf-8") + b'": ')
        reference = self._value_at(key, scope, start)
        differs = rb"(?!" + re.escape(reference) + rb")" if reference is not None else b""
        # starts with a literal, so re scans fast; an unescaped '"name": "' in locals JSON is always a key
        pattern = re.compile(key + differs + rb'"')
        pos = int(self._starts[start + 1])
        end = int(self._starts[self._invocation_end(scope, start) + 1]) - 1
        while True:
            batch = [m.start() for _, m in zip(range(_MATCH_BATCH), pattern.finditer(self._mm, pos, end), strict=False)]
            if not batch:
                return None
            where = np.asarray(batch, dtype=np.int64)
            lines = np.searchsorted(self._starts, where, side="right") - 1
            in_locals = where < self._starts[lines] + self._action[lines] - _ACTION_LEN
            ok = in_locals & (self._scope[lines] == scope) & (self._kind[lines] <= LINE)
            hit = _first(ok)
            if hit is not None:
                return int(lines[hit])
            pos = batch[-1] + 1

    # -- helpers -------------------------------------------------------------------------------

    def _line_at(self, pos: int) -> int:
        return int(np.searchsorted(self._starts, pos, side="right")) - 1

    def _invocation_end(self, scope: int, start: int) -> int:
        """The last line of the invocation that ``start`` belongs to (the trace's last line when unknown)."""
        if scope == -1:
            return len(self) - 1
        end = _first((self._kind[start:] == RETURN) & (self._scope[start:] == scope))
        return len(self) - 1 if end is None else start + end

    def _value_at(self, key: bytes, scope: int, start: int) -> bytes | None:
        """The JSON-encoded value of a variable in the latest locals at or before ``start`` in ``scope``."""
        candidates = np.flatnonzero((self._scope[: start + 1] == scope) & (self._kind[: start + 1] <= LINE))
        if not len(candidates):
            return None
        i = int(candidates[-1])
        data = self.line_bytes(i)
        locals_json = data[int(self._body[i]) : int(self._action[i]) - _ACTION_LEN]
        match = re.search(key + rb"(" + _JSON_STRING.pattern + rb")", locals_json)
        return match.group(1) if match else None


def _first(mask: np.ndarray) -> int | None:
    if not len(mask):
        return None
    i = int(np.argmax(mask))
    return i if mask[i] else None


# -- saving and loading ----------------------------------------------------------------------------


def _load_saved(path: Path, stat: os.stat_result, code_sha: str) -> dict[str, np.ndarray] | None:
    try:
        with np.load(path, allow_pickle=False) as saved:
            header = saved["header"]
            if (int(header[0]), int(header[1]), int(header[2])) != (INDEX_VERSION, stat.st_size, stat.st_mtime_ns):
                return None
            if bytes(saved["code_sha"]).decode() != code_sha:
                return None
            return {name: saved[name] for name in saved.files}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None  # missing or damaged: rebuilt


def _save(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write atomically; a folder we cannot write to just means the index is rebuilt next time."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as out:
            np.savez(out, **arrays)  # type: ignore[arg-type]  # the stub checks **arrays against allow_pickle
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)


def _split_blob(blob: np.ndarray, offsets: np.ndarray) -> list[bytes]:
    data = blob.tobytes()
    bounds = offsets.tolist()
    return [data[bounds[i] : bounds[i + 1]] for i in range(len(bounds) - 1)]


# -- building --------------------------------------------------------------------------------------


def _build(
    trace_path: Path,
    stat: os.stat_result,
    code: str | None,
    code_sha: str,
    progress: Callable[[float], None] | None,
    cancel: threading.Event | None,
) -> dict[str, np.ndarray]:
    size = stat.st_size
    source_map = _SourceMap(code)
    if size == 0:
        columns = _Columns(0)
        starts = np.zeros(1, dtype=np.int64)
    else:
        with open(trace_path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            starts = _line_starts(mm, size, progress, cancel)
            columns = _Columns(len(starts) - 1)
            _scan_lines(mm, starts.tolist(), columns, source_map, progress, cancel)
    blob = b"".join(columns.sources)
    offsets = np.zeros(len(columns.sources) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(s) for s in columns.sources], dtype=np.int64)
    return {
        "header": np.array([INDEX_VERSION, size, stat.st_mtime_ns], dtype=np.int64),
        "code_sha": np.frombuffer(code_sha.encode(), dtype=np.uint8),
        "starts": starts,
        **columns.arrays(),
        "source_blob": np.frombuffer(blob, dtype=np.uint8),
        "source_offsets": offsets,
    }


def _report(progress: Callable[[float], None] | None, cancel: threading.Event | None, fraction: float) -> None:
    if cancel is not None and cancel.is_set():
        raise IndexCancelled("indexing the trace was cancelled")
    if progress is not None:
        progress(fraction)


def _line_starts(
    mm: mmap.mmap, size: int, progress: Callable[[float], None] | None, cancel: threading.Event | None
) -> np.ndarray:
    """Offsets of every line start, plus one past the last line's end plus one (so line i ends at starts[i+1]-1)."""
    found = [np.zeros(1, dtype=np.int64)]
    view = np.frombuffer(mm, dtype=np.uint8)
    try:
        for offset in range(0, size, _SCAN_CHUNK):
            found.append(np.flatnonzero(view[offset : offset + _SCAN_CHUNK] == 10).astype(np.int64) + offset + 1)
            _report(progress, cancel, 0.2 * min(offset + _SCAN_CHUNK, size) / size)
    finally:
        del view  # an mmap cannot close while numpy still exports its buffer
    starts = np.concatenate(found)
    if starts[-1] != size:  # the last line has no newline: pretend one after it
        starts = np.append(starts, size + 1)
    return starts


class _Columns:
    """The per-line columns, filled in the scanning loop (compact arrays, converted to numpy once)."""

    NAMES = ("kind", "carries", "frame", "depth", "lineno", "body", "action", "source", "scope")

    def __init__(self, n: int) -> None:
        self.kind = array("b", bytes(n))
        self.carries = array("b", bytes(n))
        zeros = bytes(4 * n)
        self.frame, self.depth, self.lineno, self.body, self.action, self.source, self.scope = (
            array("i", zeros) for _ in range(7)
        )
        self.sources: list[bytes] = []
        self.cut_notes: list[int] = []  # lines of the tracer's notes where it cut frames or stopped

    def arrays(self) -> dict[str, np.ndarray]:
        arrays = {
            name: np.frombuffer(getattr(self, name), dtype=np.int8 if name in ("kind", "carries") else np.int32)
            for name in self.NAMES
        }
        bounds = [*self.cut_notes, len(self.kind)]
        for note, end in zip(bounds, bounds[1:], strict=False):
            _settle_depths_after_cut(arrays["kind"][note + 1 : end], arrays["depth"][note + 1 : end])
        return arrays


def _settle_depths_after_cut(tail: np.ndarray, depth: np.ndarray) -> None:
    """Depths of the frames kept after a cut, counted from the shallowest one (the entry, when it is there)."""
    events = tail <= EXCEPTION
    if not events.any():
        return
    returns_before = np.concatenate(([0], np.cumsum(tail == RETURN)[:-1]))
    relative = np.cumsum(tail == CALL) - returns_before
    # lines without an event keep the depth of the event before them
    last_event = np.maximum.accumulate(np.where(events, np.arange(len(tail)), -1))
    relative = np.where(last_event >= 0, relative[np.maximum(last_event, 0)], relative[events][0])
    depth[:] = relative - relative[events].min()


class _Frame:
    """One invocation on the scanner's call stack."""

    __slots__ = ("call_line", "scopes", "last_lineno")

    def __init__(self, call_line: int, scopes: list[tuple[int, int, int]]) -> None:
        self.call_line = call_line
        self.scopes = scopes  # (def line, first line, last line) of what the call may be
        self.last_lineno = 0


def _scan_lines(
    mm: mmap.mmap,
    starts: list[int],
    out: _Columns,
    source_map: _SourceMap,
    progress: Callable[[float], None] | None,
    cancel: threading.Event | None,
) -> None:
    n = len(starts) - 1
    stack: list[_Frame] = []
    frame: _Frame | None
    texts: dict[bytes, tuple[int, tuple[int, ...]]] = {}  # source text -> (its id, its lines in the code)
    frame_no = -1
    depth = 0
    lineno = 0
    # after a cut, the invocations whose call was cut away: each gets its own scope, -2, -3, ... (-1 is none)
    orphan = -1
    for i in range(n):
        if i % _REPORT_EVERY == 0:
            _report(progress, cancel, 0.2 + 0.8 * i / n)
        s = starts[i]
        e = starts[i + 1] - 1
        pos = s
        if mm[s : s + _ARG_LEN] == _ARG:
            out.carries[i] = 1
            value = _JSON_STRING.match(mm, s + _ARG_LEN, e)
            pos = value.end() if value is not None else s  # no value: not the CWM format
        if mm[pos : pos + _FRAME_LEN] != _FRAME:
            out.kind[i], out.frame[i], out.depth[i], out.lineno[i], out.scope[i] = (
                ARG if out.carries[i] and pos == e else OTHER,
                frame_no,
                depth,
                lineno,
                -1,
            )
            out.body[i] = out.action[i] = out.source[i] = -1
            continue
        pos += _FRAME_LEN
        head = mm[pos : pos + _LONGEST_EVENT]
        event = _EVENT_BY_HEAD.get(head[:_HEAD_KEY])
        if event is not None and head.startswith(event[0]):
            kind = event[1]
            pos += len(event[0])
        else:
            kind = END
        action = mm.rfind(_ACTION, pos, e) if kind != END else -1
        if action < 0:
            if head.startswith(_CUT_NOTE):
                stack.clear()  # the frames after the gap start at an unknown depth
                out.cut_notes.append(i)
                orphan -= 1
            out.kind[i] = (ARG if out.carries[i] else END) if pos == e else OTHER
            out.frame[i], out.depth[i], out.lineno[i], out.scope[i] = frame_no, depth, lineno, -1
            out.body[i] = out.action[i] = out.source[i] = -1
            continue
        frame_no += 1
        text = mm[action + _ACTION_LEN : e]
        known = texts.get(text)
        if known is None:
            known = texts[text] = (len(out.sources), source_map.lines_of(text))
            out.sources.append(text)
        sid, candidates = known
        if kind == CALL:
            frame = _Frame(i, source_map.scopes_of(candidates))
            stack.append(frame)
            lineno = candidates[0] if len(candidates) == 1 else 0
            frame.last_lineno = lineno
        else:
            frame = stack[-1] if stack else None
            if frame is not None and len(candidates) == 1 and len(frame.scopes) == 1:
                lineno = frame.last_lineno = candidates[0]  # the common case, kept inline for speed
            else:
                lineno = _resolve(candidates, frame, out.lineno)
        depth = len(stack) - 1 if stack else 0
        out.kind[i], out.frame[i], out.depth[i], out.lineno[i] = kind, frame_no, depth, lineno
        out.body[i], out.action[i], out.source[i] = pos - s, action + _ACTION_LEN - s, sid
        out.scope[i] = frame.call_line if frame is not None else orphan
        if kind == RETURN:
            if stack:
                stack.pop()
            elif orphan != -1:  # the orphan returned: what follows runs in its (also orphan) caller
                orphan -= 1


def _resolve(candidates: tuple[int, ...], frame: _Frame | None, linenos: array) -> int:
    """The source line of an event whose text may appear on several lines of the code.

    Keeps the candidates inside the invocation's function; when the call itself
    was ambiguous (two functions with the same ``def`` line), the body lines
    narrow it down and the call line's number is filled in then. Among several
    lines inside the function, the next one after the previous event wins.
    """
    if frame is None:
        return candidates[0] if len(candidates) == 1 else 0
    if not candidates:
        return 0
    inside = [c for c in candidates if any(first <= c <= last for _, first, last in frame.scopes)]
    if inside and len(frame.scopes) > 1:
        frame.scopes = [s for s in frame.scopes if any(s[1] <= c <= s[2] for c in inside)]
        if len(frame.scopes) == 1:
            linenos[frame.call_line] = frame.scopes[0][0]
    pool = inside or list(candidates)
    later = [c for c in pool if c >= frame.last_lineno]
    frame.last_lineno = min(later) if later else min(pool)
    return frame.last_lineno


class _SourceMap:
    """Where each source text sits in the traced code, and the line ranges of its functions."""

    def __init__(self, code: str | None) -> None:
        self._lines: dict[bytes, tuple[int, ...]] = {}
        self._scopes: dict[int, tuple[int, int]] = {}
        self._last = 1
        if code is None:
            return
        # linecache reads with universal newlines, so the tracer prints lines split that way
        text = code.replace("\r\n", "\n").replace("\r", "\n")
        positions: dict[bytes, list[int]] = {}
        for number, line in enumerate(text.split("\n"), start=1):
            positions.setdefault(line.encode("utf-8", "surrogatepass"), []).append(number)
        self._lines = {key: tuple(value) for key, value in positions.items()}
        self._last = text.count("\n") + 1
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError):
            return
        scoped = (
            ast.FunctionDef,
            ast.AsyncFunctionDef,
            ast.ClassDef,
            ast.Lambda,
            ast.ListComp,
            ast.SetComp,
            ast.DictComp,
            ast.GeneratorExp,
        )
        for node in ast.walk(tree):
            if isinstance(node, scoped):
                end = node.end_lineno or node.lineno
                heads = [node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])]
                for head in heads:
                    known = self._scopes.get(head)
                    if known is None or end - head < known[1] - known[0]:
                        self._scopes[head] = (min(heads), end)

    def lines_of(self, text: bytes) -> tuple[int, ...]:
        return self._lines.get(text, ())

    def scopes_of(self, call_lines: tuple[int, ...]) -> list[tuple[int, int, int]]:
        """(def line, first, last) for each line a call event may show; the module when it is no function."""
        module = (0, 1, self._last)
        if not call_lines:
            return [module]
        scopes = [(line, *self._scopes[line]) if line in self._scopes else module for line in call_lines]
        return list(dict.fromkeys(scopes))
