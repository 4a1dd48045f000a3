"""Runs and grading from the task view: each goes in a worker thread, its output streams into the output pane.

A run belongs to the step on screen: leaving the step or the row cancels it.
Its record lands in the workspace either way; the panes only show it if its
step is still the one on screen.
"""

from __future__ import annotations

import threading
from functools import partial
from typing import TYPE_CHECKING

from runner import bookkeeping
from runner.verdict import describe_outcome
from tui.keys import with_keys
from tui.refusal import refusal_shown
from workspace.records import RunRecord

if TYPE_CHECKING:
    from tui.screens.task import TaskScreen


class RunControl:
    def __init__(self, screen: TaskScreen) -> None:
        self.screen = screen
        self._cancel: threading.Event | None = None  # the going run's, until it has finished

    def run(self, purpose: str) -> None:
        screen = self.screen
        if not screen.writable():
            return
        if screen.output_pane.running:
            screen.notify(with_keys(screen, "A run is going: {run.cancel} cancels it"), severity="warning", timeout=3)
            return
        screen.autosave.flush()
        with refusal_shown(screen, severity="warning", timeout=4) as refused:
            prepared = bookkeeping.prepare_run(screen.ws, screen.row_id, screen.k, purpose, screen.config.run)
        if refused:
            return
        self._cancel = threading.Event()
        screen.clock.run_started()
        screen.output_pane.begin(purpose, screen.config.run.time_limit)
        screen.show_pane("output", focus=screen.pane not in ("output",))
        screen.run_worker(
            partial(self._run, prepared, self._cancel),
            thread=True,
            exclusive=True,
            group="run",
            exit_on_error=False,
            name="run",
        )

    def cancel(self) -> None:
        if self._cancel is not None and not self._cancel.is_set():
            self._cancel.set()
            self.screen.notify("Cancelling the run…", timeout=2)

    def cancel_on_leaving(self, what: str) -> None:
        if self._cancel is not None and not self._cancel.is_set():
            self._cancel.set()
            self.screen.notify(f"The run was cancelled because you left {what}", timeout=4)

    def _run(self, prepared: bookkeeping.PreparedRun, cancel: threading.Event) -> None:
        """In the worker's thread."""
        screen = self.screen
        try:
            result = bookkeeping.start(prepared, on_output=screen.output_pane.feed, cancel=cancel)
            record = bookkeeping.record(screen.ws, prepared, result)
        except BaseException as exc:
            screen.app.call_from_thread(screen.output_pane.fail, str(exc))
            raise
        screen.app.call_from_thread(self._run_finished, prepared.row_id, prepared.k, record)

    def _run_finished(self, row_id: str, k: int, record: RunRecord) -> None:
        screen = self.screen
        self._cancel = None
        screen.clock.run_ended()
        match = describe_outcome(record.purpose, record.verdict)
        screen.notify(
            f"Run #{record.id} ({record.purpose}): {record.kind}" + (f" · {match}" if match else ""), timeout=5
        )
        if (row_id, k) != (screen.row_id, screen.k):
            return
        screen.output_pane.end(record)
        screen.output_pane.show_history(screen.ws.runs(row_id, k))
        screen.show_flags(screen.ws.step(row_id, k))
        screen.show_header()

    def grade(self) -> None:
        """Grade the fix as it is saved; the grade attaches to a run of that very code."""
        screen = self.screen
        if not screen.saved_and_writable():
            return
        code = screen.ws.step(screen.row_id, screen.k).fixed_code
        run = bookkeeping.run_of_code(screen.ws, screen.row_id, screen.k, code) if code.strip() else None
        if run is None:
            screen.notify(
                with_keys(screen, "Run the fix first ({run.fix}): grading attaches to a run of this fix"),
                severity="warning",
                timeout=4,
            )
            return
        screen.notify(f"Grading run #{run.id}…", timeout=3)
        screen.run_worker(
            partial(self._grade, screen.row_id, screen.k, code),
            thread=True,
            exclusive=True,
            group="grade",
            exit_on_error=False,
            name="grade",
        )

    def _grade(self, row_id: str, k: int, code: str) -> None:
        """In the worker's thread."""
        screen = self.screen
        run_id, result = bookkeeping.grade_code(screen.ws, row_id, k, code, screen.config.grade)
        summary = "graded" if result.get("success") else f"grading failed: {result.get('error', 'see the run')}"
        screen.app.call_from_thread(screen.notify, f"Run #{run_id}: {summary}", timeout=6)
        screen.app.call_from_thread(self._grade_finished, row_id, k)

    def _grade_finished(self, row_id: str, k: int) -> None:
        screen = self.screen
        if (row_id, k) == (screen.row_id, screen.k):
            screen.output_pane.show_history(screen.ws.runs(row_id, k))
