"""A drafted cwm_analysis: verbatim trace lines in fenced blocks, each after a placeholder for the reasoning.

The shape follows the client's guidance: the call that leads to the bug, the
lines before it with the values that matter, the exception and its return;
then, when the fix was traced too, "let's verify the fix" with the fixed run's
lines at the same source lines and its final return. Every quoted line is a
whole line read from a trace index, so it passes the verbatim check as built.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tracer_adapter.step_traces import bug_trace, step_traces
from tracer_adapter.trace_index import TraceIndex
from tracer_adapter.trace_lines import line_source
from workspace.errors import InputError
from workspace.placeholders import placeholder

if TYPE_CHECKING:
    from workspace.store import Step, Workspace

BEFORE_LINES = 8  # line events quoted before the failing line, at most (after loops are collapsed)
VERIFY_LINES = 8
FENCE = "```"


@dataclass(frozen=True)
class Quote:
    """A block of trace lines (indexes into one trace) and the placeholder that precedes it."""

    hint: str
    lines: list[int]


def draft_analysis(bug: TraceIndex, fix: TraceIndex | None = None, fixed_lines: dict[int, int] | None = None) -> str:
    """The draft for a trace that ends raising (and the fix's trace, when there is one).

    ``fixed_lines``: each line number of the buggy code -> the line of the fixed code it became
    (``fixed_line_numbers``), so that a line the fix changed is quoted from the fixed run too.
    """
    text = _render(bug, bug_quotes(bug))
    if fix is not None:
        text += "\n\n" + _render(fix, fix_quotes(bug, fix, fixed_lines))
    return text + "\n"


def bug_quotes(index: TraceIndex) -> list[Quote]:
    raised = index.crash_line()
    if raised is None:
        raise ValueError("the trace does not end with an exception: nothing to draft from")
    chain = index.call_chain(raised)
    # each invocation's call event; one cut from a long trace (it keeps its first and last frames) is left out
    calls = [
        int(first) for first in (index.invocation_lines(i)[0] for i in chain) if index.info(int(first)).kind == "call"
    ]
    own = index.invocation_lines(raised)
    before = collapse_loops(index, [int(i) for i in own[1:]])[-BEFORE_LINES:]
    after = [raised] + ([raised + 1] if raised + 1 < len(index) else [])
    quotes = [
        Quote("the call that leads to the bug, and what it is given", list(dict.fromkeys(calls))),
        Quote("the lines before the failure and the values that matter", before),
        Quote("why this line raises", after),
    ]
    return [q for q in quotes if q.lines]


def fix_quotes(bug: TraceIndex, fix: TraceIndex, fixed_lines: dict[int, int] | None = None) -> list[Quote]:
    """The fixed run's last line event at each source line the bug's draft quotes, and the fixed run's final return.

    A quoted line is found in the fixed run by its line number through ``fixed_lines`` (so the line the fix
    changed is found as changed), else by its source text.
    """
    same: list[int] = []
    for i in dict.fromkeys(i for q in bug_quotes(bug)[1:] for i in q.lines):
        lineno = bug.info(i).source_lineno
        source = line_source(bug.line(i))
        if fixed_lines is not None and lineno in fixed_lines:
            found = fix.event_lines_at(fixed_lines[lineno])
        elif source is not None:
            found = fix.lines_with_source(source)
        else:
            continue
        hits = [int(j) for j in found if fix.info(int(j)).kind in ("call", "line")]
        if hits:
            same.append(hits[-1])
    quotes = [Quote("let's verify the fix: the same lines in the fixed run", sorted(set(same))[-VERIFY_LINES:])]
    final = fix.final_return()
    if final is not None:
        quotes.append(Quote("what the fixed run returns", [final] + ([final + 1] if final + 1 < len(fix) else [])))
    return [q for q in quotes if q.lines]


def collapse_loops(index: TraceIndex, lines: list[int]) -> list[int]:
    """Keep a loop's first and last iteration: drop the iterations between (lines of one invocation, in order).

    A loop is found by its header: the first source line that runs again.
    """
    numbers = [index.info(i).source_lineno for i in lines]
    seen: set = set()
    header = None
    for n in numbers:
        if n in seen and n is not None:
            header = n
            break
        seen.add(n)
    if header is None:
        return lines
    starts = [k for k, n in enumerate(numbers) if n == header]
    if len(starts) <= 2:
        return lines
    return lines[: starts[1]] + lines[starts[-1] :]


def fixed_line_numbers(code: str, fixed_code: str) -> dict[int, int]:
    """Each line of ``code`` (1-based) that the fix kept or changed -> its line in ``fixed_code``."""
    old, new = code.splitlines(), fixed_code.splitlines()
    mapping: dict[int, int] = {}
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag in ("equal", "replace"):
            for t in range(i2 - i1):
                mapping[i1 + t + 1] = j1 + min(t, j2 - j1 - 1) + 1
    return mapping


def _render(index: TraceIndex, quotes: list[Quote]) -> str:
    parts = []
    for quote in quotes:
        body = "\n".join(index.line(i) for i in quote.lines)
        parts.append(f"{placeholder(quote.hint)}\n\n{FENCE}\n{body}\n{FENCE}")
    return "\n\n".join(parts)


def draft_for_step(ws: Workspace, step: Step) -> str:
    """The draft for a stored step: its latest trace of its code, and of its fix when that was traced."""
    traces = step_traces(ws, step)
    bug_path = bug_trace(ws, step)
    with TraceIndex.open(bug_path) as bug:
        if bug.crash_line() is None:
            raise InputError(f"{bug_path}: row {step.row_id!r}, step {step.index}: the trace does not end raising")
        if traces.fix is None or not traces.fix.is_file():
            return draft_analysis(bug)
        with TraceIndex.open(traces.fix) as fix:
            return draft_analysis(bug, fix, fixed_line_numbers(step.code, step.fixed_code))
