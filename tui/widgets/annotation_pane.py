"""Annotation pane: the step's judgements and texts, the step selector and the verbatim check."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Label, Static

from tui.keys import with_keys
from tui.widgets.editors import FieldEditor
from tui.widgets.pane import Pane

TEXT_FIELDS = (
    ("revised_analysis", "revised_analysis: the cause of the bug, or why it is a dead end"),
    ("revised_plan", "revised_plan: how to fix it"),
    ("cwm_analysis", "cwm_analysis: reasoning with trace lines copied verbatim"),
)


def yes_no(value: bool | None) -> str:
    return "—" if value is None else ("yes" if value else "no")


def step_position(k: int, n_steps: int) -> str:
    """'step 1 (of 0..1)': which debug step of how many, numbered from 0 as everywhere (``--step K``, the header)."""
    return f"step {k} (of 0..{n_steps - 1})"


def fenced_block(lines: list[str], at_line_start: bool) -> str:
    """Trace lines as a ``` block, exactly as given, starting on a line of its own."""
    body = "\n".join(lines)
    return ("" if at_line_start else "\n") + f"```\n{body}\n```\n"


class AnnotationPane(Pane):
    PANE_ID = "annotation"
    TITLE = "annotation"
    HELP = (
        "Your verdict on this step. {row.bug_confirmed} toggles bug_confirmed, {row.fixable} marks it "
        "fixable, {row.not_fixable} not fixable (then write why in revised_analysis). {pane.edit} puts the "
        "cursor in the first field, tab moves between fields, escape leaves them. Trace lines inserted "
        "from the trace pane land at the cwm_analysis cursor; the verbatim check below says if any copied "
        "line no longer matches the trace. {step.previous} and {step.next} switch debug steps, "
        "{step.new} starts a new step from the fix."
    )

    DEFAULT_CSS = """
    AnnotationPane #annotation-flags { height: auto; }
    AnnotationPane #annotation-step { height: 1; }
    AnnotationPane #annotation-fields { height: 1fr; }
    AnnotationPane FieldEditor { height: 8; border: none; padding: 0; }
    AnnotationPane #cwm_analysis { height: 14; }
    AnnotationPane #verbatim-status { height: auto; max-height: 4; }
    AnnotationPane Label { color: $text-muted; margin-top: 1; }
    """

    def compose(self) -> ComposeResult:
        yield Static(id="annotation-flags", markup=False)
        yield Static(id="annotation-step", markup=False)
        with VerticalScroll(id="annotation-fields"):
            for field, title in TEXT_FIELDS:
                yield Label(title)
                yield FieldEditor(id=field)
        yield Static(id="verbatim-status", markup=False)

    def load(self, *, texts: dict[str, str], read_only: bool) -> None:
        for field, _ in TEXT_FIELDS:
            editor = self.query_one(f"#{field}", FieldEditor)
            editor.load_text(texts.get(field) or "")
            editor.read_only = read_only

    def show_flags(
        self, *, bug_confirmed: bool | None, fixable: bool | None, bug_fixed: bool | None, sources: str = ""
    ) -> None:
        self.query_one("#annotation-flags", Static).update(
            with_keys(
                self,
                f"bug confirmed: {yes_no(bug_confirmed)} ({{row.bug_confirmed}}) · fixable: {yes_no(fixable)} "
                f"({{row.fixable}}/{{row.not_fixable}}) · bug fixed: {yes_no(bug_fixed)} ({{row.bug_fixed}})",
            )
            + (f"\nset: {sources}" if sources else "")
        )

    def show_step(self, k: int, n_steps: int) -> None:
        self.query_one("#annotation-step", Static).update(
            with_keys(
                self,
                f"debug {step_position(k, n_steps)} · {{step.previous}} {{step.next}} switch · {{step.new}}: new step",
            )
        )

    def show_verbatim(self, message: str, ok: bool) -> None:
        status = self.query_one("#verbatim-status", Static)
        status.set_classes("verbatim-ok" if ok else "verbatim-problem")
        status.update(message)

    def focus_field(self, field: str) -> None:
        """Put the cursor in ``field`` and bring it into view once the pane is laid out."""
        editor = self.editor(field)
        editor.focus()
        self.call_after_refresh(editor.scroll_visible, animate=False)

    def on_descendant_focus(self, event) -> None:
        # Tab between fields: the field taking the cursor is always the one in sight.
        if isinstance(event.widget, FieldEditor):
            self.call_after_refresh(event.widget.scroll_visible, animate=False)

    def editor(self, field: str) -> FieldEditor:
        return self.query_one(f"#{field}", FieldEditor)

    def insert_trace_lines(self, lines: list[str]) -> None:
        editor = self.editor("cwm_analysis")
        _, column = editor.cursor_location
        editor.insert(fenced_block(lines, at_line_start=column == 0))
