"""The base of the task view's panes: a focusable, titled box with its own help."""

from __future__ import annotations

from textual.containers import Vertical
from textual.widgets import TextArea


class Pane(Vertical, can_focus=True):
    """One pane of the task view. Focusing the pane (not a field in it) keeps single-letter keys live."""

    PANE_ID = ""
    TITLE = ""
    HELP = ""  # shown by F1 / ? while this pane has focus

    DEFAULT_CSS = """
    Pane { border: round $primary-darken-2; height: 1fr; }
    Pane:focus-within { border: round $accent; }
    Pane > .pane-label { color: $text-muted; height: 1; }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(id=self.PANE_ID, **kwargs)
        self.border_title = self.TITLE

    def edit(self) -> None:
        """Put the cursor in the pane's first editable field, if it has one."""
        for editor in self.query(TextArea):
            if not editor.read_only and editor.display:
                editor.focus()
                return
