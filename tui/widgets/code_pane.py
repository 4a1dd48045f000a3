"""Code pane: the fix edited over the step's buggy code, and its diff."""

from __future__ import annotations

from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import VerticalScroll
from textual.timer import Timer
from textual.widgets import Input, Static
from textual.widgets.text_area import Document, Selection

from tui.bindings import CODE_PANE_BINDINGS
from tui.widgets.diff_view import FixDiff, fix_diff, render_diff
from tui.widgets.editors import CodeEditor
from tui.widgets.pane import Pane

DIFF_DELAY = 0.15  # seconds of no typing before the diff is recounted


class CodePane(Pane):
    PANE_ID = "code"
    TITLE = "code"
    HELP = (
        "The step's code. Edit it to make the fix ({pane.edit} puts the cursor in the editor, "
        "escape leaves it); every keystroke is saved as the step's fixed code. "
        "{code.diff} shows the diff against the buggy code ({pane.leave} closes it), {code.external_editor} "
        "opens $EDITOR on the fix, and the file named in the header can be edited from another terminal: "
        "changes show up here live. {code.failing_line} jumps to the recorded failing line."
    )
    COMPONENT_CLASSES = {"diff--added", "diff--removed", "diff--hunk"}
    BINDINGS: ClassVar[list[BindingType]] = list(CODE_PANE_BINDINGS)

    DEFAULT_CSS = """
    CodePane #code-header { height: 1; color: $text-muted; text-wrap: nowrap; text-overflow: ellipsis; }
    CodePane #fixed_code { height: 1fr; border: none; padding: 0; }
    CodePane #code-diff { height: 1fr; display: none; }
    CodePane #code-prompt { height: 1; display: none; }
    CodePane.diff #code-diff { display: block; }
    CodePane.diff #fixed_code { display: none; }
    CodePane .diff--added { color: $success; }
    CodePane .diff--removed { color: $error; }
    CodePane .diff--hunk { color: $accent; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.buggy = ""
        self.edit_path = ""
        self._diff_timer: Timer | None = None
        self._prompt_kind = ""
        self._prompt_from_editor = False  # where the prompt was opened: its escape goes back there
        self.last_find = ""

    def compose(self) -> ComposeResult:
        yield Static(id="code-header", markup=False)
        yield CodeEditor(id="fixed_code")
        with VerticalScroll(id="code-diff"):
            yield Static(id="code-diff-text")
        yield Input(id="code-prompt", compact=True)

    @property
    def editor(self) -> CodeEditor:
        return self.query_one("#fixed_code", CodeEditor)

    def load(self, *, buggy: str, fixed: str, edit_path: str, read_only: bool) -> None:
        self.buggy = buggy
        self.edit_path = edit_path
        editor = self.editor
        editor.load_text(fixed)
        editor.read_only = read_only
        self.remove_class("diff")  # each step opens on its code, not on the last step's diff
        self.refresh_diff()

    def diff_later(self) -> None:
        """Recount the fix's changed lines once typing pauses, off the UI loop (a diff per key is too slow)."""
        if self._diff_timer is not None:
            self._diff_timer.stop()
        self._diff_timer = self.set_timer(DIFF_DELAY, lambda: self._diff_worker(self.buggy, self.editor.text))

    @work(thread=True, exclusive=True, group="diff", exit_on_error=False, name="diff of the fix")
    def _diff_worker(self, buggy: str, fixed: str) -> None:
        diff = fix_diff(buggy, fixed)
        self.app.call_from_thread(self._show_diff, buggy, fixed, diff)

    def refresh_diff(self) -> None:
        self._show_diff(self.buggy, self.editor.text, fix_diff(self.buggy, self.editor.text))

    def _show_diff(self, buggy: str, fixed: str, diff: FixDiff) -> None:
        if (buggy, fixed) != (self.buggy, self.editor.text):
            return  # typed over (or another step loaded) since: a newer diff is on its way
        self.query_one("#code-header", Static).update(f"{diff.summary} · file: {self.edit_path}")
        if self.has_class("diff"):
            self.query_one("#code-diff-text", Static).update(
                render_diff(
                    diff,
                    self.get_component_rich_style("diff--added"),
                    self.get_component_rich_style("diff--removed"),
                    self.get_component_rich_style("diff--hunk"),
                )
            )

    @property
    def showing_diff(self) -> bool:
        return self.has_class("diff")

    def toggle_diff(self) -> None:
        self.toggle_class("diff")
        self.refresh_diff()

    def replace_text(self, text: str) -> None:
        """Take text written from outside (an external editor), keeping the cursor where it was."""
        editor = self.editor
        cursor = editor.cursor_location
        editor.replace(text, editor.document.start, editor.document.end)
        editor.cursor_location = (min(cursor[0], editor.document.line_count - 1), cursor[1])
        self.refresh_diff()

    # ---- find and go to line

    def action_prompt(self, kind: str) -> None:
        prompt = self.query_one("#code-prompt", Input)
        if not prompt.has_focus:
            self._prompt_from_editor = self.editor.has_focus
        self._prompt_kind = kind
        prompt.placeholder = "find (enter: next match)" if kind == "find" else "go to line number"
        prompt.value = ""
        prompt.display = True
        prompt.focus()

    def action_close_prompt(self) -> None:
        self._close_prompt()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Escape closes the prompt only while it is open; otherwise it is the task view's escape.
        if action == "close_prompt":
            return self.query_one("#code-prompt", Input).display
        return True

    def _close_prompt(self) -> None:
        """Hide the prompt and give the keys back to where it was opened: the editor, or the pane (whose
        single-letter keys stay live: escape from a prompt never leaves the cursor in the code)."""
        self.query_one("#code-prompt", Input).display = False
        self.remove_class("diff")
        if self._prompt_from_editor:
            self.editor.focus()
        else:
            self.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._close_prompt()
        value = event.value.strip()
        if self._prompt_kind == "find":
            self.find(event.value or self.last_find)
        elif value.isdigit() and 1 <= int(value) <= self.editor.document.line_count:
            self.jump_to(int(value))
        elif value:
            self.notify(f"No line {value!r}: the code has lines 1 to {self.editor.document.line_count}", timeout=3)

    def action_find_again(self) -> None:
        if self.last_find:
            self.find(self.last_find)
        else:
            self.action_prompt("find")

    def find(self, text: str) -> None:
        """Select the next match of ``text`` after the cursor, from the top past the last one."""
        if not text:
            return
        self.last_find = text
        editor, document = self.editor, self.editor.document
        assert isinstance(document, Document)  # TextArea builds a Document or its syntax-aware subclass
        code = editor.text
        found = code.find(text, document.get_index_from_location(editor.selection.end))
        if found < 0:
            found = code.find(text)
            if found >= 0:
                self.notify(f"Found {text!r} again from the top", timeout=2)
        if found < 0:
            self.notify(f"{text!r} is not in the code", severity="warning", timeout=3)
            return
        start = document.get_location_from_index(found)
        editor.selection = Selection(start, document.get_location_from_index(found + len(text)))
        editor.scroll_cursor_visible(center=True)
        editor.focus()

    def show_line(self, lineno: int) -> None:
        """Put the editor's cursor on line ``lineno``, centred once the editor is laid out, without giving it
        the keys (``pane.edit`` does that, on this line)."""
        editor = self.editor
        self.remove_class("diff")
        editor.cursor_location = (max(0, lineno - 1), 0)
        # The pane may have been shown just now: scrolled before its layout, the line ended up at the top.
        editor.call_after_refresh(editor.scroll_cursor_visible, center=True)

    def jump_to(self, lineno: int) -> None:
        """Go to line ``lineno`` (ctrl+g) where the prompt was opened: in the editor, or on the pane."""
        self.show_line(lineno)
        if self._prompt_from_editor:
            self.editor.focus()
