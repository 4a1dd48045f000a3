"""Decisions in the task view: the step's flags, done or rejected, new and dropped steps, and undo.

Each saves the unsaved text first, so a decision never outruns what was typed
before it. Done and reject move on to the next undecided row; undo goes back
to the row the last decision was on.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from tracer_adapter.verbatim import check_analysis
from tui.keys import key_for
from tui.refusal import refusal_shown
from tui.screens.reject import RejectScreen
from workspace.store import Step

if TYPE_CHECKING:
    from tui.screens.task import TaskScreen


class Decisions:
    def __init__(self, screen: TaskScreen) -> None:
        self.screen = screen

    def _set_flags(self, **flags: bool | None) -> Step | None:
        screen = self.screen
        screen.autosave.flush()
        with refusal_shown(screen) as refused:
            step = screen.ws.update_step(screen.row_id, screen.k, **flags)
        if refused:
            return None
        screen.show_flags(step)
        screen.show_header()
        return step

    def set_fixable(self, fixable: bool) -> None:
        screen = self.screen
        if not screen.writable() or self._set_flags(fixable=fixable) is None:
            return
        if fixable:
            screen.notify("Marked fixable", timeout=2)
        else:
            screen.notify("Marked not fixable: say why in revised_analysis", timeout=3)
            screen.show_pane("annotation")
            screen.annotation_pane.focus_field("revised_analysis")

    def toggle_bug_confirmed(self) -> None:
        screen = self.screen
        if screen.writable():
            step = screen.ws.step(screen.row_id, screen.k)
            self._set_flags(bug_confirmed=not step.bug_confirmed)

    def toggle_bug_fixed(self) -> None:
        # The hand override; the done check still wants it to agree with the verifying run.
        screen = self.screen
        if screen.writable():
            step = screen.ws.step(screen.row_id, screen.k)
            self._set_flags(bug_fixed=not step.bug_fixed)

    def reject(self) -> None:
        screen = self.screen
        if not screen.writable():
            return

        def chosen(reason: str | None) -> None:
            if not reason:
                return
            screen.autosave.flush()
            with refusal_shown(screen) as refused:
                screen.ws.set_status(screen.row_id, "rejected", reason=reason)
            if refused:
                return
            screen.notify(
                f"Rejected {screen.row_id}: {reason.replace('_', ' ')} ({key_for(screen, 'row.undo')} undoes)"
            )
            screen.show_header()
            screen.advance()

        screen.app.push_screen(RejectScreen(screen.row_id), chosen)

    def mark_done(self) -> None:
        screen = self.screen
        if not screen.saved_and_writable():
            return
        with refusal_shown(screen, title="Not done yet", timeout=10) as refused:
            screen.ws.set_status(screen.row_id, "done", check_quotes=check_analysis)
        if refused:
            return
        screen.notify(f"{screen.row_id} is done ({key_for(screen, 'row.undo')} undoes)", timeout=3)
        screen.show_header()
        screen.advance()

    def undo(self) -> None:
        screen = self.screen
        if not screen.saved_and_writable():
            return
        row_id = screen.ws.last_decision_row()
        with refusal_shown(screen) as refused:
            undone = screen.ws.undo()
        if refused:
            return
        if undone is None:
            screen.notify("Nothing to undo", timeout=2)
            return
        if row_id is not None and row_id != screen.row_id:
            # The decision was on another row (the one auto-advance left): go back to it, so the undo is seen.
            screen.switch_to_row(row_id)
            position = screen.ws.dataset.index_of(row_id) + 1
            screen.notify(f"Undone on row {position} ({row_id}), shown again: {undone}", timeout=6)
            return
        screen.notify(f"Undone: {undone}", timeout=4)
        screen.show_flags(screen.ws.step(screen.row_id, screen.k))
        screen.show_header()

    def new_step(self) -> None:
        screen = self.screen

        def start() -> tuple[int, str]:
            k = screen.ws.new_step(screen.row_id).index
            return k, f"Debug step {k}: the fix is now the buggy code"

        self._change_steps(start)

    def drop_step(self) -> None:
        screen = self.screen

        def drop() -> tuple[int, str]:
            k = screen.ws.drop_step(screen.row_id)
            return k - 1, f"Dropped debug step {k}; its runs stay in the history"

        self._change_steps(drop)

    def _change_steps(self, change: Callable[[], tuple[int, str]]) -> None:
        """Add or drop a step (``change`` returns the step to show and what to say), then show that step."""
        screen = self.screen
        if not screen.saved_and_writable():
            return
        screen.count_time()  # on the step being left: a dropped step can no longer take it
        with refusal_shown(screen) as refused:
            k, message = change()
        if refused:
            return
        screen.runs.cancel_on_leaving("the step")
        screen.load_step(k)
        screen.notify(message, timeout=4)
