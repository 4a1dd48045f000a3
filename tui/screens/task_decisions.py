"""Decisions in the task view: the step's flags, done or rejected, new and dropped steps, and undo.

Each saves the unsaved text first, so a decision never outruns what was typed
before it. Done and reject move on to the next undecided row; undo goes back
to the row the last decision was on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tracer_adapter.verbatim import check_analysis
from tui.keys import key_for
from tui.refusal import refusal_shown
from tui.screens.reject import RejectScreen
from workspace.store import Step, Workspace
from workspace.vocabulary import FLAG_FIELDS, flag_word

if TYPE_CHECKING:
    from tui.screens.task import TaskScreen


@dataclass(frozen=True)
class Decided:
    """A row's decisions as they stand: its status and each step's flags."""

    status: str
    flags: tuple[tuple[bool | None, ...], ...]  # per step, in FLAG_FIELDS order


def decided(ws: Workspace, row_id: str) -> Decided:
    status, reason, _ = ws.status(row_id)
    flags = tuple(tuple(getattr(step, name) for name in FLAG_FIELDS) for step in ws.steps(row_id))
    return Decided(f"{status} ({reason})" if reason else status, flags)


def undo_effect(before: Decided, after: Decided) -> str:
    """'status rejected (time_limit) -> untouched', 'step 0: fixable yes -> undecided': what changed, old -> new."""
    changes = [f"status {before.status} -> {after.status}"] if before.status != after.status else []
    for k, (old, new) in enumerate(zip(before.flags, after.flags, strict=False)):
        flags = [
            f"{name} {flag_word(was)} -> {flag_word(now)}"
            for name, was, now in zip(FLAG_FIELDS, old, new, strict=True)
            if was != now
        ]
        if flags:
            changes.append(f"step {k}: " + ", ".join(flags))
    return "; ".join(changes)


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
        before = decided(screen.ws, row_id) if row_id is not None else None
        with refusal_shown(screen) as refused:
            undone = screen.ws.undo()
        if refused:
            return
        if undone is None or row_id is None or before is None:
            screen.notify("Nothing to undo", timeout=2)
            return
        # Said as what the undo did, read from the row: the store names the decision it reversed, forwards.
        done = undo_effect(before, decided(screen.ws, row_id)) or f"the decision ({undone})"
        if row_id != screen.row_id:
            # The decision was on another row (the one auto-advance left): go back to it, so the undo is seen.
            screen.switch_to_row(row_id)
            position = screen.ws.dataset.index_of(row_id) + 1
            screen.notify(f"Undone on row {position} ({row_id}): {done}; the row is shown again", timeout=6)
            return
        screen.notify(f"Undone: {done}", timeout=4)
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
