"""A raw CWM trace line read for people: event tag, line number and source first, then the locals.

Raw lines all begin ``<|frame_sep|><|line_sep|>{"train": …`` and put the
source past column 200, so at 80 columns every row looks alike. The compact
form of a line is ``line   12  x = f(y)   y=3  z=[1, 2]``; a return or an
exception row also shows its value (``→ 5``), which the raw format puts at the
start of the next line. A line that only holds that value shows it again,
dimmed, so every raw line still has its row (marking and inserting copy raw
lines, byte for byte). The detail form lists one frame in full, one field per
line, for the frame screen.

Free of Textual: plain parsing of raw lines and their ``LineInfo``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tracer_adapter.cwm_tracer import ARG_SEP, FRAME_SEP
from tracer_adapter.trace_index import LineInfo
from tracer_adapter.trace_lines import carried_value, line_locals

TAGS = {"call": "call", "line": "line", "return": "ret", "exception": "exc", "arg": "val", "end": "end", "other": ""}
TAG_WIDTH = 4
LINENO_WIDTH = 5
EVENT_RE = re.compile(r"<\|frame_sep\|><\|(call|line|return|exception)_sep\|>.*?<\|action_sep\|>(.*)", re.S)


@dataclass(frozen=True)
class Frame:
    """One raw line's event, pulled apart."""

    kind: str  # a LineInfo kind: call, line, return, exception, arg, end, other
    lineno: int | None
    depth: int
    source: str  # the source text, as traced (indentation kept)
    locals: dict[str, str]  # call and line events; {} otherwise
    value: str | None  # a return's value or an exception's (type, value, traceback), None if not known
    carried: str | None  # the previous frame's value this raw line starts with
    raw: str


def leading_value(raw: str) -> tuple[str | None, str]:
    """Split ``<|arg_sep|>"v"<|frame_sep|>rest`` into the decoded value and ``<|frame_sep|>rest``."""
    if not raw.startswith(ARG_SEP):
        return None, raw
    end = raw.find(FRAME_SEP, len(ARG_SEP))
    return carried_value(raw, undecoded_as_text=True), raw[end:] if end >= 0 else ""


def parse_frame(raw: str, info: LineInfo, next_raw: str | None = None) -> Frame:
    """The event on ``raw``; ``next_raw`` (the following raw line) gives a return's or exception's value."""
    carried, rest = leading_value(raw)
    found = EVENT_RE.match(rest.rstrip("\n"))
    kind, source, local_vars, value = info.kind, "", {}, None
    if found:
        event, source = found.groups()
        local_vars = line_locals(rest, keep_unreadable=True) if event in ("call", "line") else {}
        if event in ("return", "exception") and next_raw is not None:
            value = carried_value(next_raw, undecoded_as_text=True)
    elif info.kind not in ("arg", "end"):
        source = raw.rstrip("\n")
    return Frame(kind, info.source_lineno, info.depth, source, local_vars, value, carried, raw)


def tag(frame: Frame) -> str:
    return TAGS.get(frame.kind, "")


def lineno_text(frame: Frame) -> str:
    return "" if frame.lineno is None else str(frame.lineno)


def locals_text(local_vars: dict[str, str]) -> str:
    return "  ".join(f"{name}={value}" for name, value in local_vars.items())


def one_line(text: str) -> str:
    """A value on one row: newlines shown as ⏎."""
    return text.replace("\n", "⏎")


def compact_parts(frame: Frame) -> list[tuple[str, str]]:
    """The compact row as (text, part) pieces; part names the colour: tag, lineno, source, value, locals, muted."""
    parts = [(f"{tag(frame):<{TAG_WIDTH}}", frame.kind), (f"{lineno_text(frame):>{LINENO_WIDTH}}  ", "lineno")]
    if frame.kind == "arg":
        parts.append((f"↳ {one_line(frame.carried or '')}", "muted"))
        return parts
    if frame.kind == "other":
        return [(one_line(frame.source), "")]
    parts.append((frame.source.strip(), "source"))
    if frame.value is not None:
        parts.append((f"  → {one_line(frame.value)}", "value"))
    if frame.locals:
        parts.append(("   " + one_line(locals_text(frame.locals)), "locals"))
    return parts


KIND_NAMES = {"call": "call", "line": "line", "return": "return", "exception": "exception", "arg": "value line"}


def detail_lines(frame: Frame, frame_no: int) -> list[tuple[str, str]]:
    """The frame in full, one (label, text) per field and per variable, for the frame screen."""
    where = f"line {frame.lineno}" if frame.lineno is not None else "line unknown"
    rows = [("event", f"{KIND_NAMES.get(frame.kind, frame.kind)} · frame {frame_no} · {where} · depth {frame.depth}")]
    if frame.source:
        rows.append(("source", frame.source.strip()))
    if frame.value is not None:
        rows.append(("raised" if frame.kind == "exception" else "returned", frame.value))
    if frame.carried is not None:
        rows.append(("value of the frame before", frame.carried))
    rows.extend((name, value) for name, value in frame.locals.items())
    return rows
