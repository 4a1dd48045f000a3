"""The verbatim check: every trace line quoted in a ``cwm_analysis`` must be a real line of a stored trace.

A line of the analysis that contains any CWM token must equal, byte for byte,
one whole line of one of the row's traces (trailing spaces and ``\\r`` count).
For each line that does not, the nearest real trace line is offered: lines
that run the same source text, lines sharing the longest plain fragments, and
the closest source texts when the source part itself was edited, ranked with
difflib.
"""

from __future__ import annotations

import difflib
import mmap
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from tracer_adapter.cwm_tracer import ACTION_SEP, TRACE_TOKENS
from tracer_adapter.trace_index import TraceIndex, holds_line

if TYPE_CHECKING:
    from workspace.store import Workspace

_ACTION = ACTION_SEP
_TOKEN_SPLIT = re.compile("|".join(re.escape(t) for t in TRACE_TOKENS))
_SAME_SOURCE_SAMPLE = 150  # lines running the same source text that are compared
_FRAGMENT_HITS = 50  # lines per shared fragment that are compared
_CLOSE_SOURCES = 3
_FINAL_RANKED = 8  # candidates given the full (slower) difflib ratio
_COMPARED_CHARS = 4000  # lines with huge values are compared on their start only


@dataclass(frozen=True)
class VerbatimProblem:
    line_no: int  # 1-based line of the analysis
    line: str
    nearest: str | None  # the closest real trace line, None when no trace has anything close

    def describe(self) -> str:
        nearest = "no trace line is close" if self.nearest is None else f"nearest trace line: {self.nearest}"
        return f"line {self.line_no} is not a trace line as printed: {self.line}\n    {nearest}"


@dataclass(frozen=True)
class StepProblem:
    row_id: str
    step: int
    problem: VerbatimProblem

    def describe(self) -> str:
        return f"row {self.row_id!r}, step {self.step}, cwm_analysis {self.problem.describe()}"


def quoted_lines(analysis: str) -> list[tuple[int, str]]:
    """(1-based line number, line) of every analysis line that contains a trace token."""
    return [
        (n, line)
        for n, line in enumerate(analysis.split("\n"), start=1)
        if any(token in line for token in TRACE_TOKENS)
    ]


def check_analysis(analysis: str, trace_paths: list[Path]) -> list[VerbatimProblem]:
    """The analysis lines that quote trace tokens but are not whole lines of any of the traces.

    The lines are looked up in the traces' bytes; only when one is not there are the traces' indexes
    opened, to find its nearest line (opening an index costs more than the search).
    """
    quoted = quoted_lines(analysis)
    if not quoted:
        return []
    paths = [Path(p) for p in trace_paths if Path(p).is_file()]
    missing = _not_in_traces(paths, quoted)
    if not missing:
        return []
    indexes = [TraceIndex.open(path) for path in paths]
    try:
        return [VerbatimProblem(n, line, nearest_line(line, indexes)) for n, line in missing]
    finally:
        for index in indexes:
            index.close()


def _not_in_traces(paths: list[Path], quoted: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """The quoted (line number, line) pairs that are whole lines of none of the traces."""
    left = quoted
    for path in paths:
        if not left:
            break
        with open(path, "rb") as f:
            if not os.fstat(f.fileno()).st_size:
                continue
            with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as text:
                left = [(n, line) for n, line in left if not holds_line(text, line)]
    return left


def check_workspace(ws: Workspace, row_ids: list[str] | None = None) -> list[StepProblem]:
    """Every step of the given rows (default: all rows someone worked on) whose analysis fails the check."""
    if row_ids is None:
        row_ids = [s.id for s in ws.summaries() if s.status != "untouched"]
    problems: list[StepProblem] = []
    for row_id in row_ids:
        for step in ws.steps(row_id):
            if not step.cwm_analysis:
                continue
            paths = ws.quotable_trace_paths(row_id, step.index)
            problems += [StepProblem(row_id, step.index, p) for p in check_analysis(step.cwm_analysis, paths)]
    return problems


def nearest_line(line: str, indexes: list[TraceIndex]) -> str | None:
    candidates: set[str] = set()
    for index in indexes:
        for i in _candidate_lines(line, index):
            candidates.add(index.line(int(i)))
    if not candidates:
        return None
    # a real line that holds the whole quoted text is what a re-wrapped or partly copied line came from
    part = line.strip()
    holding = [c for c in candidates if part in c]
    pool = holding or list(candidates)
    ranked = sorted(pool, key=lambda c: _matcher(line, c).quick_ratio(), reverse=True)[:_FINAL_RANKED]
    return max(ranked, key=lambda c: (_matcher(line, c).ratio(), c))


def _candidate_lines(line: str, index: TraceIndex) -> list[int]:
    found: list[int] = []
    if _ACTION in line:
        source = line.rsplit(_ACTION, 1)[1]
        same = index.lines_with_source(source)
        if not len(same):
            close = difflib.get_close_matches(source, index.source_texts(), n=_CLOSE_SOURCES, cutoff=0.6)
            same = np.concatenate([index.lines_with_source(c) for c in close]) if close else same
        if len(same) > _SAME_SOURCE_SAMPLE:
            same = same[np.linspace(0, len(same) - 1, _SAME_SOURCE_SAMPLE).astype(np.int64)]
        found += same.tolist()
    fragments = sorted((f for f in _TOKEN_SPLIT.split(line) if f.strip()), key=len, reverse=True)[:2]
    for fragment in fragments:
        found += index.lines_containing(fragment, _FRAGMENT_HITS)
    return found


def _matcher(a: str, b: str) -> difflib.SequenceMatcher:
    return difflib.SequenceMatcher(None, a[:_COMPARED_CHARS], b[:_COMPARED_CHARS], autojunk=False)
