"""Text editors for the task view: prose fields and the Python code editor.

Both leave the field on escape, handing focus back to their pane so that the
single-letter keys work again. The code editor highlights Python with Pygments
(already a dependency) instead of tree-sitter, which is not installed.
"""

from __future__ import annotations

from pygments.lexers import PythonLexer
from pygments.token import Comment, Keyword, Name, Number, Operator, String, _TokenType
from textual import events
from textual.widgets import TextArea

from tui.widgets.pane import Pane

# Pygments token -> TextArea theme style name; the first match in this order wins.
_HIGHLIGHT_NAMES: list[tuple[_TokenType, str]] = [
    (String.Doc, "string.documentation"),
    (String, "string"),
    (Comment, "comment"),
    (Number, "number"),
    (Keyword.Constant, "boolean"),
    (Keyword, "keyword"),
    (Operator.Word, "keyword.operator"),
    (Operator, "operator"),
    (Name.Builtin.Pseudo, "variable.builtin"),
    (Name.Builtin, "type.builtin"),
    (Name.Function, "function"),
    (Name.Class, "class"),
    (Name.Decorator, "function"),
    (Name.Exception, "type.builtin"),
]
_MAX_HIGHLIGHT_CHARS = 400_000  # past this, editing stays smooth and the code goes plain


def _highlight_name(token: _TokenType) -> str | None:
    for parent, name in _HIGHLIGHT_NAMES:
        if token in parent:
            return name
    return None


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
        super().__init__(text, **kwargs)

    def _build_highlight_map(self) -> None:
        self._line_cache.clear()
        highlights = self._highlights
        highlights.clear()
        text = self.text
        if len(text) > _MAX_HIGHLIGHT_CHARS:
            return
        row = column = 0  # TextArea highlights are byte offsets within a line
        for token, value in PythonLexer(stripnl=False, ensurenl=False).get_tokens(text):
            name = _highlight_name(token)
            for i, part in enumerate(value.split("\n")):
                if i:
                    row += 1
                    column = 0
                width = len(part.encode("utf-8"))
                if name and width:
                    highlights[row].append((column, column + width, name))
                column += width
