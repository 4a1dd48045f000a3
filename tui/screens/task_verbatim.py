"""The verbatim check of the task view: every trace line quoted in cwm_analysis must be in a trace of the step.

It runs in a thread shortly after typing pauses (VERBATIM_DELAY) and on
opening a step; the annotation pane shows its one-line verdict.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from textual.timer import Timer
from textual.worker import get_current_worker

from tracer_adapter.cwm_tracer import TRACE_TOKENS
from tracer_adapter.verbatim import check_analysis
from workspace.done_check import describe_verbatim_problem

if TYPE_CHECKING:
    from tui.screens.task import TaskScreen

VERBATIM_DELAY = 0.4


class VerbatimCheck:
    def __init__(self, screen: TaskScreen) -> None:
        self.screen = screen
        self._timer: Timer | None = None

    def check_later(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.screen.set_timer(VERBATIM_DELAY, self.check)

    def check(self) -> None:
        screen = self.screen
        self._timer = None
        text = screen.annotation_pane.editor("cwm_analysis").text
        paths = screen.ws.quotable_trace_paths(screen.row_id, screen.k)
        screen.run_worker(
            partial(self._check, text, paths),
            thread=True,
            exclusive=True,
            group="verbatim",
            exit_on_error=False,
            name="verbatim check",
        )

    def _check(self, text: str, paths: list[Path]) -> None:
        """In the worker's thread."""
        problems = check_analysis(text, paths)
        if get_current_worker().is_cancelled:
            return
        if not any(token in text for token in TRACE_TOKENS):
            message, ok = "verbatim: no trace lines quoted yet", True
        elif not problems:
            message, ok = "verbatim: every quoted trace line matches the trace", True
        else:
            first = problems[0]
            message = f"verbatim: {len(problems)} line(s) not in any trace of this step; " + describe_verbatim_problem(
                first.line_no, first.line, first.nearest
            ).removeprefix("cwm_analysis ")
            ok = False
        self.screen.app.call_from_thread(self.screen.annotation_pane.show_verbatim, message, ok)
