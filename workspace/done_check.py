"""What stops a row from being marked done: one line per blocker, for people."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from workspace.line_difference import excerpt, where_they_differ
from workspace.syntax import syntax_problem
from workspace.vocabulary import PASSING_VERDICT

if TYPE_CHECKING:
    from workspace.store import Step


def code_sha256(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


def done_blockers(steps: list[Step], trace_paths: Callable[[int], list[Path]]) -> list[str]:
    """Every reason the steps are not a finished annotation; ``trace_paths(k)`` lists step k's traces."""
    blockers: list[str] = []
    for step in steps:
        blockers.extend(f"step {step.index}: {problem}" for problem in _step_problems(step, trace_paths))
    return blockers


def _step_problems(step: Step, trace_paths: Callable[[int], list[Path]]) -> list[str]:
    problems: list[str] = []
    has_fix = bool(step.fixed_code.strip())
    if step.bug_fixed and not has_fix:
        problems.append("bug_fixed is set but there is no fixed code")
    if step.bug_fixed and has_fix:
        problems.extend(_verification_problems(step))
    if has_fix:
        problem = syntax_problem(step.fixed_code)
        if problem:
            problems.append(f"fixed code does not parse ({problem})")
    if step.fixable is False and not step.revised_analysis.strip():
        problems.append("not fixable, but revised_analysis does not say why")
    if step.cwm_analysis.strip():
        problems.extend(_verbatim_problems(step, trace_paths(step.index)))
    return problems


def _verification_problems(step: Step) -> list[str]:
    verification = step.verification
    if verification is None:
        return ["bug_fixed is set but the fixed code was never run to verify it"]
    kind = (verification.get("verdict") or {}).get("kind")
    if kind != PASSING_VERDICT:
        return [f"bug_fixed is set but the verifying run ended {kind!r}, not {PASSING_VERDICT!r}"]
    verified_sha = verification.get("fixed_code_sha256")
    if verified_sha is not None and verified_sha != code_sha256(step.fixed_code):
        return ["the fixed code changed after its verifying run; run it again"]
    return []


def _verbatim_problems(step: Step, traces: list[Path]) -> list[str]:
    from tracer_adapter.verbatim import check_analysis  # the one allowed upward import, kept lazy

    return [describe_verbatim_problem(p.line_no, p.line, p.nearest) for p in check_analysis(step.cwm_analysis, traces)]


def describe_verbatim_problem(line_no: int, line: str, nearest: str | None) -> str:
    """One line: the quoted line and its nearest trace line, shown around where they differ."""
    if nearest is None:
        return f"cwm_analysis line {line_no} is not a line of the trace: {excerpt(line.strip(), 0)!r}"
    quoted, real, column = where_they_differ(line, nearest)
    return (
        f"cwm_analysis line {line_no} is not a line of the trace: it differs at column {column}: "
        f"{quoted!r} (nearest trace line: {real!r})"
    )
