"""Run a step's buggy code or its fix and keep the books: the one meaning of "the fix" for every caller.

``nodefix run``, the task view and ``nodefix replicate`` all go through here:
a fix is stored as the step's ``fixed_code`` before it runs; the SHA-256 of
the exact code string is taken on the host before the sandbox starts; the
script is written from that string; the stored run carries the hash, and the
store applies the flag rules in the transaction that adds it. Grading grades
a file the host writes from the stored code (after checking its hash against
the run's), never the script in scratch, which the sandboxed code can rewrite.
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from runner.execute import execute
from runner.grading import DEFAULT_TIMEOUT, grade
from runner.spec import RunResult, RunSpec
from workspace.config import GradeSettings, RunSettings
from workspace.errors import InputError
from workspace.records import RunRecord
from workspace.run_rules import code_sha256

if TYPE_CHECKING:
    from workspace.store import Workspace

FIX = "fix"


@dataclass(frozen=True)
class PreparedRun:
    """A run ready to start: what ``execute`` needs, and what the store needs afterwards."""

    row_id: str
    k: int
    purpose: str
    spec: RunSpec
    recorded_output: str  # the output the run's error is compared with
    recorded_form: str  # the row's recorded _term_out, whose form the run's output_as_recorded takes


def prepare_run(
    ws: Workspace,
    row_id: str,
    k: int,
    purpose: str,
    settings: RunSettings,
    fix: str | None = None,
) -> PreparedRun:
    """Get one run of step k ready. For a fix run, ``fix`` (if given) is first saved as the step's fixed code.

    A run of the buggy code compares with the recorded output (step 0: the
    source's ``_term_out``); a fix run with the step's current bug.
    """
    step = ws.step(row_id, k)
    source = ws.source(row_id)
    if purpose == FIX:
        if fix is not None and fix != step.fixed_code:
            step = ws.update_step(row_id, k, fixed_code=fix)
        code = step.fixed_code
        if not code.strip():
            raise InputError(f"row {row_id!r} step {k}: no fix yet to run (edit the code pane, or give --code FILE)")
        recorded = step.observed_output
    else:
        code = step.code
        recorded = source.term_out if k == 0 else step.observed_output
    spec = RunSpec(
        code=code,
        competition_id=source.competition_id,
        settings=settings,
        run_dir=ws.run_dir(row_id, k),
    )
    return PreparedRun(row_id, k, purpose, spec, recorded, source.term_out)


def start(
    prepared: PreparedRun,
    *,
    on_output: Callable[[str], None] | None = None,
    cancel: threading.Event | None = None,
) -> RunResult:
    """Run it to its end (blocking; may be called from any thread)."""
    return execute(
        prepared.spec,
        on_output=on_output,
        cancel=cancel,
        recorded_output=prepared.recorded_output,
        recorded_form=prepared.recorded_form,
    )


def record(ws: Workspace, prepared: PreparedRun, result: RunResult) -> RunRecord:
    """Store the finished run (its record carries the host's hash of the code it started) and return it."""
    return ws.run(ws.add_run(prepared.row_id, prepared.k, prepared.purpose, result.to_record()))


def run_and_record(
    ws: Workspace,
    row_id: str,
    k: int,
    purpose: str,
    settings: RunSettings,
    fix: str | None = None,
    *,
    on_output: Callable[[str], None] | None = None,
    cancel: threading.Event | None = None,
) -> tuple[RunRecord, RunResult]:
    prepared = prepare_run(ws, row_id, k, purpose, settings, fix)
    result = start(prepared, on_output=on_output, cancel=cancel)
    return record(ws, prepared, result), result


def run_of_code(ws: Workspace, row_id: str, k: int, code: str) -> RunRecord | None:
    """The newest run of step k that started exactly ``code`` (by its host-side hash), or None."""
    sha = code_sha256(code)
    return next((run for run in reversed(ws.runs(row_id, k)) if run.code_sha256 == sha), None)


def grade_code(
    ws: Workspace,
    row_id: str,
    k: int,
    code: str,
    settings: GradeSettings,
    *,
    timeout: float | None = None,
    cancel: threading.Event | None = None,
) -> tuple[int, dict]:
    """Grade ``code`` and attach the result to the newest run of exactly that code; (run id, result)."""
    run = run_of_code(ws, row_id, k, code)
    if run is None:
        raise InputError(
            f"row {row_id!r} step {k}: this code was never run, so there is no run "
            f"to attach the grade to; run it first (r, or nodefix run --code)"
        )
    out_dir = Path(tempfile.mkdtemp(prefix="grade-", dir=Path(run.run_dir)))  # beside scratch, not in it
    code_path = out_dir / "code.py"
    code_path.write_text(code, encoding="utf-8")
    result = grade(
        code_path,
        ws.source(row_id).competition_id,
        settings,
        out_dir,
        timeout=timeout or DEFAULT_TIMEOUT,
        cancel=cancel,
    )
    result["code_sha256"] = code_sha256(code)
    ws.add_grade(run.id, result)
    return run.id, result
