"""Text editors for the task view: prose fields and the Python code editor.

Both leave the field on escape, handing focus back to their pane so that the
single-letter keys work again. The code editor highlights Python the way
Textual supports, with tree-sitter (the ``textual[syntax]`` extra).
"""

from __future__ import annotations

from textual import events
from textual.widgets import TextArea

from tui.widgets.pane import Pane


class FieldEditor(TextArea):
    """A prose field (revised_analysis, cwm_analysis, ...): soft-wrapped, escape leaves it."""

    def __init__(self, text: str = "", **kwargs) -> None:
        kwargs.setdefault("soft_wrap", True)
        kwargs.setdefault("tab_behavior", "focus")
        super().__init__(text, **kwargs)

    def on_mount(self) -> None:
        # The app decides the look (its theme) and, for steady snapshots, whether cursors blink.
        self.theme = getattr(self.app, "editor_theme", self.theme)
        self.cursor_blink = getattr(self.app, "cursor_blink", self.cursor_blink)

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "escape":
            event.stop()
            event.prevent_default()
            self.leave()

    def leave(self) -> None:
        """Focus the pane holding this editor (or nothing, outside a pane)."""
        for ancestor in self.ancestors:
            if isinstance(ancestor, Pane):
                ancestor.focus()
                return
        self.screen.set_focus(None)


class CodeEditor(FieldEditor):
    """Python with line numbers and highlighting; tab indents."""

    def __init__(self, text: str = "", **kwargs) -> None:
        kwargs.setdefault("soft_wrap", False)
        kwargs.setdefault("tab_behavior", "indent")
        kwargs.setdefault("show_line_numbers", True)
        kwargs.setdefault("language", "python")  # tree-sitter, from textual[syntax]: reparses only what changed
        super().__init__(text, **kwargs)
