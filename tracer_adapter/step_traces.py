"""Which stored traces of a step show its buggy code and which show its fix (matched by the code's hash)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from workspace.errors import InputError

if TYPE_CHECKING:
    from workspace.store import Step, Workspace


@dataclass(frozen=True)
class StepTraces:
    bug: Path | None  # the latest trace of the step's own code
    fix: Path | None  # the latest trace of the step's fixed code, when it has one


def step_traces(ws: Workspace, step: Step) -> StepTraces:
    traces = ws.traces(step.row_id, step.index)
    bug_sha, fix_sha = step.code_hashes()
    bug = [t.trace_path for t in traces if t.code_sha256 == bug_sha]
    fix = [t.trace_path for t in traces if fix_sha is not None and t.code_sha256 == fix_sha]
    return StepTraces(bug[-1] if bug else None, fix[-1] if fix else None)


def bug_trace(ws: Workspace, step: Step) -> Path:
    """The latest trace of the step's own code; InputError naming the row and step when there is none."""
    found = step_traces(ws, step).bug
    if found is None or not found.is_file():
        raise InputError(
            f"row {step.row_id!r}, step {step.index}: no trace of the step's code "
            f"(trace it first: nodefix trace TARGET --id {step.row_id} --step {step.index})"
        )
    return found
