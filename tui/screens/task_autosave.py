"""Autosave for the task view: the step's fields (the fix and the annotation) written to the workspace as one types.

Nothing typed is lost: edits are saved at most SAVE_DELAY after the first
unsaved keystroke, and again on blur, step or row change and quit. While the
disk is full or the database locked, the text stays on screen unsaved, a
banner says so, and the save is tried again every STORAGE_RETRY.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.timer import Timer

from tui.refusal import refusal_shown
from tui.widgets.annotation_pane import TEXT_FIELDS
from workspace.errors import StorageError

if TYPE_CHECKING:
    from tui.screens.task import TaskScreen

SAVED_FIELDS = ("fixed_code",) + tuple(name for name, _ in TEXT_FIELDS)
SAVE_DELAY = 0.5  # seconds from the first unsaved keystroke to the save
STORAGE_RETRY = 2.0  # seconds between tries to save while the disk is full or the database locked
STORAGE_BANNER_SECONDS = 24 * 3600  # the "not saved" notice stays until a save succeeds


class Autosave:
    def __init__(self, screen: TaskScreen) -> None:
        self.screen = screen
        self.saved: dict[str, str] = {}  # field -> text as last saved (or loaded)
        self._unsaved: dict[str, str] = {}
        self._storage_problem = False  # a save failed for lack of space or a lock: retrying
        self._timer: Timer | None = None

    def load(self, texts: dict[str, str]) -> None:
        """A step was opened: ``texts`` is what the workspace holds for each field."""
        self.saved = texts
        self._unsaved.clear()

    def changed(self, field: str, text: str) -> None:
        if text == self.saved.get(field):
            self._unsaved.pop(field, None)
            return
        self._unsaved[field] = text
        if self._timer is None:
            self._timer = self.screen.set_timer(SAVE_DELAY, self.flush)

    def flush(self) -> None:
        """Save every unsaved edit now."""
        screen = self.screen
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if not self._unsaved or not screen.row_is_open:
            return
        fields = dict(self._unsaved)
        with refusal_shown(screen) as refused:
            try:
                screen.ws.update_step(screen.row_id, screen.k, **fields)
            except StorageError as exc:  # an InputError too, but a passing one: retried, not refused
                self.storage_failed(str(exc))
                return
        if refused:
            return
        if self._storage_problem:
            self._storage_problem = False
            screen.app.clear_notifications()
            screen.notify("Saved again: every edit is in the workspace", timeout=4)
        self.saved.update(fields)
        for field, text in fields.items():
            if self._unsaved.get(field) == text:  # not typed over while saving
                del self._unsaved[field]
        if "fixed_code" in fields:
            screen.fix_file.write(fields["fixed_code"])
        if screen.query("#task-header"):  # not while the screen is being torn down
            screen.show_header()  # the first edit turns an untouched row in_progress
        screen.save_ui_state()

    def storage_failed(self, message: str) -> None:
        """The disk is full or the database locked: keep the text unsaved, say so until it saves, try again."""
        if not self._storage_problem:
            self._storage_problem = True
            self.screen.notify(f"NOT SAVED, retrying: {message}", severity="error", timeout=STORAGE_BANNER_SECONDS)
        self._timer = self.screen.set_timer(STORAGE_RETRY, self.flush)
