"""What stops a row from being done: one problem per broken rule, naming the step and the column.

The same rules serve ``d`` / ``annotate --done`` (over the stored steps) and
``validate`` (over the deliverable's rows). The verbatim check of quoted trace
lines needs the tracer's trace index, which lives above the workspace, so the
caller passes it in as ``check_quotes`` (``tracer_adapter.verbatim.check_analysis``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workspace.line_difference import excerpt, where_they_differ
from workspace.placeholders import placeholder_problems
from workspace.run_rules import code_sha256, fix_outcome_problem, fix_verdict
from workspace.syntax import syntax_problem

if TYPE_CHECKING:
    from workspace.store import Step

# (analysis, trace files) -> the quoted lines that are not trace lines (each with line_no, line, nearest)
QuoteChecker = Callable[[str, list[Path]], Sequence[Any]]

__all__ = ["Problem", "QuoteChecker", "code_sha256", "describe_verbatim_problem", "done_blockers", "step_problems"]


@dataclass(frozen=True)
class Problem:
    step: int
    column: str
    message: str
    done_only: bool = False  # a rule for finished rows; the others hold for every row

    def __str__(self) -> str:
        return f"step {self.step}: {self.message}"


def done_blockers(steps: list[Step], trace_paths: Callable[[int], list[Path]], check_quotes: QuoteChecker) -> list[str]:
    """Every reason the steps are not a finished annotation, one line each."""
    return [str(p) for p in step_problems(steps, trace_paths, check_quotes)]


def step_problems(
    steps: list[Step],
    trace_paths: Callable[[int], list[Path]] | None,
    check_quotes: QuoteChecker | None,
    syntax: Callable[[str], str | None] = syntax_problem,
) -> list[Problem]:
    """The done rules over a row's steps in order. With ``check_quotes``, a fixable step's analysis must
    quote the trace; with ``trace_paths`` too, every quoted line must be a line of the step's traces."""
    problems: list[Problem] = []
    for position, step in enumerate(steps):
        following = steps[position + 1] if position + 1 < len(steps) else None
        problems += _one_step(step, following, syntax)
        problems += [Problem(step.index, "cwm_analysis", p) for p in placeholder_problems(step.cwm_analysis)]
        if following is not None:
            problems += _chain(step, following)
        if check_quotes is not None and step.cwm_analysis.strip():
            if step.fixable and not check_quotes(step.cwm_analysis, []):  # against no trace, every quote fails
                problems.append(Problem(step.index, "cwm_analysis", _NO_QUOTES, done_only=True))
            elif trace_paths is not None:
                problems += [
                    Problem(step.index, "cwm_analysis", describe_verbatim_problem(p.line_no, p.line, p.nearest))
                    for p in check_quotes(step.cwm_analysis, trace_paths(step.index))
                ]
    return problems


_NO_QUOTES = "cwm_analysis quotes no trace line (trace the step, then insert the lines that show the bug)"


def _one_step(step: Step, following: Step | None, syntax: Callable[[str], str | None]) -> list[Problem]:
    k = step.index
    problems: list[Problem] = []
    problem = syntax(step.fixed_code) if step.fixed_code.strip() else None
    if problem:
        problems.append(Problem(k, "fixed_code", f"fixed code does not parse ({problem})"))
    if not step.bug_confirmed:
        problems.append(
            Problem(k, "bug_confirmed", "the bug was never replicated (run the step's code: r)", done_only=True)
        )
    if step.fixable is None:
        return [*problems, Problem(k, "fixable", "fixable or not is undecided (f / n)", done_only=True)]
    if not step.revised_analysis.strip():
        why = "the cause of the bug" if step.fixable else "why it cannot be fixed"
        problems.append(Problem(k, "revised_analysis", f"revised_analysis is empty (write {why})", step.fixable))
    if step.fixable is False:
        if following is not None:
            problems.append(Problem(k, "fixable", f"not fixable, yet step {following.index} starts from its fix"))
        if step.bug_fixed:
            problems.append(Problem(k, "bug_fixed", "bug_fixed is set on a step that is not fixable"))
        return problems
    for name in ("revised_plan", "cwm_analysis"):
        if not getattr(step, name).strip():
            problems.append(Problem(k, name, f"{name} is empty", done_only=True))
    if not step.fixed_code.strip():
        return [
            *problems,
            Problem(k, "fixed_code", "fixable, but there is no fixed code", done_only=not step.bug_fixed),
        ]
    verification = step.verification
    if verification is None:
        problems.append(
            Problem(k, "verification", "the fixed code was never run to verify it (r)", done_only=not step.bug_fixed)
        )
    elif verification.code_sha256 != code_sha256(step.fixed_code):
        problems.append(
            Problem(
                k,
                "fixed_code",
                "the fixed code is not the code its verifying run executed; run it again",
                done_only=not step.bug_fixed,
            )
        )
    else:
        outcome = fix_outcome_problem(verification, following is not None)
        if outcome:
            problems.append(Problem(k, "verification", outcome, done_only=True))
    proven = verification is not None and verification.code_sha256 == code_sha256(step.fixed_code)
    expected = proven and fix_verdict(verification, following is not None)
    if step.bug_fixed != expected:
        says = "shows the bug gone" if expected else "does not show the bug gone"
        problems.append(
            Problem(
                k,
                "bug_fixed",
                f"bug_fixed is {'yes' if step.bug_fixed else 'no'}, but the verifying run {says}",
                done_only=expected,
            )
        )
    return problems


def _chain(step: Step, following: Step) -> list[Problem]:
    """Step k+1 is what step k's verified fix printed: its code is that fix, its output that run's output."""
    problems: list[Problem] = []
    k1 = following.index
    if following.index != step.index + 1:
        problems.append(Problem(k1, "debug_step", f"step {k1} follows step {step.index}"))
    if following.code != step.fixed_code:
        problems.append(Problem(k1, "code", f"code is not step {step.index}'s fixed_code"))
    if step.verification is not None and following.observed_output != step.verification.output:
        problems.append(
            Problem(k1, "_term_out", f"output is not what step {step.index}'s verifying run printed", done_only=True)
        )
    return problems


def describe_verbatim_problem(line_no: int, line: str, nearest: str | None) -> str:
    """One line: the quoted line and its nearest trace line, shown around where they differ."""
    if nearest is None:
        return f"cwm_analysis line {line_no} is not a line of the trace: {excerpt(line.strip(), 0)!r}"
    quoted, real, column = where_they_differ(line, nearest)
    return (
        f"cwm_analysis line {line_no} is not a line of the trace: it differs at column {column}: "
        f"{quoted!r} (nearest trace line: {real!r})"
    )
