"""The crash site of a traced step: what raised, where, through which calls, and the failing frame's values.

Built from a trace index alone (no Textual), for ``nodefix show`` and the
workbench's metadata pane. The values are the trace's own text (``repr`` as
traced); a value's type is read off that text, so it is a best guess for
objects whose ``repr`` does not name their type.
"""

from __future__ import annotations

import ast
import re
import textwrap
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tracer_adapter.step_traces import step_traces
from tracer_adapter.trace_lines import carried_value, line_locals, line_source

if TYPE_CHECKING:
    from tracer_adapter.trace_index import TraceIndex
    from workspace.store import Step, Workspace

HEADING = "crash site"
_EXCEPTION_TRIPLE = re.compile(r"\(<class '(?P<type>[^']+)'>, (?P<value>.*), <traceback object at 0x\w+>\)", re.S)
_DEF_NAME = re.compile(r"\s*(?:async\s+)?def\s+(\w+)")
_SHOWN_VALUE_CHARS = 120
_TYPE_BY_PREFIX: tuple[tuple[str, str], ...]
_TYPE_BY_PREFIX = (("array(", "ndarray"), ("tensor(", "Tensor"), ("[", "list"), ("(", "tuple"), ("b'", "bytes"))
_TYPE_BY_PREFIX += (('b"', "bytes"), ("'", "str"), ('"', "str"), ("<class ", "type"), ("<function ", "function"))
_TYPE_BY_PREFIX += (("<module ", "module"), ("<generator ", "generator"), ("<bound method ", "method"))
_OBJECT_AT = re.compile(r"<(?:[\w.]+\.)?(\w+) object at 0x")
_CALL_LIKE = re.compile(r"([A-Za-z_]\w*)\(")


@dataclass(frozen=True)
class TracedValue:
    name: str
    type_name: str  # read off the traced text; "?" when it does not tell
    value: str  # as traced
    read_by_line: bool  # the failing line reads this variable


@dataclass(frozen=True)
class ChainFrame:
    function: str
    lineno: int | None
    source: str  # the frame's latest line, stripped
    trace_line: int


@dataclass(frozen=True)
class CrashSite:
    exception_type: str
    message: str
    lineno: int | None
    source: str  # the failing source line, stripped
    chain: list[ChainFrame]  # outermost first; the last one is the failing frame
    values: list[TracedValue]  # the failing frame's locals at its last line event, the line's reads first
    exception_line: int  # trace line of the exception event
    locals_line: int | None  # trace line of the failing frame's last line event

    def lines(self) -> list[str]:
        """The summary for people, under a "crash site" heading."""
        where = f"line {self.lineno}" if self.lineno else "line ?"
        out = [HEADING, f"  {self.exception_type}: {self.message}", f"  at {where}: {self.source}", "  call chain:"]
        width = max((len(f.function) for f in self.chain), default=0)
        for frame in self.chain:
            out.append(f"    {frame.function.ljust(width)}  line {frame.lineno or '?'}: {frame.source}")
        if self.values:
            out.append(f"  locals at {where} (before it ran; * read by the line):")
            name_width = max(len(v.name) for v in self.values)
            type_width = max(len(v.type_name) for v in self.values)
            for v in self.values:
                shown = v.value if len(v.value) <= _SHOWN_VALUE_CHARS else v.value[:_SHOWN_VALUE_CHARS] + "..."
                shown = shown.replace("\n", "\\n")
                mark = "*" if v.read_by_line else " "
                out.append(f"   {mark}{v.name.ljust(name_width)}  {v.type_name.ljust(type_width)}  {shown}")
        return out


def crash_site(index: TraceIndex) -> CrashSite | None:
    """The crash site of the trace, None when the trace does not end with an exception."""
    raised = index.crash_line()
    if raised is None:
        return None
    exception_type, message = _exception_of(index, raised)
    chain = [_chain_frame(index, i) for i in index.call_chain(raised)]
    own = index.invocation_lines(raised)
    locals_line = int(own[-1]) if len(own) else None
    source = (line_source(index.line(raised)) or "").strip()
    values = _values(index.line(locals_line), source) if locals_line is not None else []
    return CrashSite(
        exception_type=exception_type,
        message=message,
        lineno=index.info(raised).source_lineno,
        source=source,
        chain=chain,
        values=values,
        exception_line=raised,
        locals_line=locals_line,
    )


def _exception_of(index: TraceIndex, raised: int) -> tuple[str, str]:
    value = carried_value(index.line(raised + 1)) if raised + 1 < len(index) else None
    if value is None:
        return "exception", "(the trace does not show its value)"
    found = _EXCEPTION_TRIPLE.fullmatch(value)
    if found is None:
        return "exception", value
    full_type, shown = found.group("type"), found.group("value")
    short = full_type.rsplit(".", 1)[-1]
    if shown.startswith(short + "(") and shown.endswith(")"):
        shown = shown[len(short) + 1 : -1]
    return short, shown


def _chain_frame(index: TraceIndex, i: int) -> ChainFrame:
    info = index.info(i)
    source = line_source(index.line(i)) or ""
    call = index.invocation_lines(i)
    def_text = line_source(index.line(int(call[0]))) or "" if len(call) else ""
    named = _DEF_NAME.match(def_text)
    return ChainFrame(named.group(1) if named else "<module>", info.source_lineno, source.strip(), i)


def _values(locals_line: str, source: str) -> list[TracedValue]:
    shown = line_locals(locals_line)
    reads = [name for name in names_read(source) if name in shown]
    ordered = reads + [name for name in shown if name not in reads]
    return [TracedValue(name, guess_type(shown[name]), shown[name], name in reads) for name in ordered]


def names_read(source: str) -> list[str]:
    """Variable names a source line reads, in the order they appear (a header such as ``for x in y:`` too)."""
    text = textwrap.dedent(source).strip()
    if text.startswith(("elif ", "else", "except", "finally")):
        text = "if 1:\n  pass\n" + text
    tree = None
    for candidate in (text, text + "\n  pass", text.rstrip(":") if text.endswith(":") else None):
        if candidate is None:
            continue
        try:
            tree = ast.parse(candidate)
            break
        except SyntaxError:
            continue
    if tree is None:
        return []
    found: list[tuple[int, int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            found.append((node.lineno, node.col_offset, node.id))
        elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            found.append((node.target.lineno, node.target.col_offset, node.target.id))
    return list(dict.fromkeys(name for _, _, name in sorted(found)))


def guess_type(text: str) -> str:
    """The type a ``repr`` text most likely came from, "?" when it does not say."""
    if text in ("True", "False"):
        return "bool"
    if text == "None":
        return "NoneType"
    if re.fullmatch(r"-?\d+", text):
        return "int"
    if re.fullmatch(r"-?(\d+\.\d*|\d*\.\d+|\d+)(e[-+]?\d+)?|-?inf|nan", text):
        return "float"
    if text.startswith("{"):
        return "dict" if text == "{}" or ": " in text.split(",", 1)[0] else "set"
    for prefix, name in _TYPE_BY_PREFIX:
        if text.startswith(prefix):
            return name
    at = _OBJECT_AT.match(text)
    if at:
        return at.group(1)
    call = _CALL_LIKE.match(text)
    return call.group(1) if call else "?"


def step_crash_site(ws: Workspace, step: Step) -> CrashSite | None:
    """The crash site of the latest trace of the step's own code, None when there is none or it did not raise."""
    path = step_traces(ws, step).bug
    if path is None or not path.is_file():
        return None
    from tracer_adapter.trace_index import TraceIndex  # only for a step with a trace: ``nodefix show`` starts faster

    with TraceIndex.open(path) as index:
        return crash_site(index)
