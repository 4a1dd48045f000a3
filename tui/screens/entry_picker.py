"""Small modal pickers: where a trace starts, and other one-of-a-list choices of the trace pane."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList

from tracer_adapter.entry import default_entry, marker_functions
from tui.bindings import ENTRY_PICKER_BINDINGS

WHOLE_SCRIPT = "the whole script"


class ChoicePicker(ModalScreen[int | None]):
    """Pick one of ``labels`` with the arrows and enter (or its number); dismisses with its position, None on escape."""

    BINDINGS: ClassVar[list[BindingType]] = list(ENTRY_PICKER_BINDINGS)

    DEFAULT_CSS = """
    ChoicePicker { align: center middle; }
    ChoicePicker > Vertical {
        width: 70; max-width: 100%; height: auto; max-height: 90%;
        border: round $accent; background: $panel; padding: 0 1;
    }
    ChoicePicker Label { color: $text-muted; }
    ChoicePicker OptionList, ChoicePicker OptionList:focus { height: auto; max-height: 16; border: none; }
    """

    def __init__(self, title: str, labels: list[str], selected: int = 0) -> None:
        super().__init__()
        self.title_text = title
        self.labels = labels
        self.selected = selected

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"{self.title_text} (enter picks, esc cancels)", markup=False)
            yield OptionList(*[f"{n}. {label}" if n < 10 else label for n, label in enumerate(self.labels, start=1)])

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.highlighted = min(self.selected, len(self.labels) - 1)
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option_index)

    def on_key(self, event) -> None:
        if event.character and event.character.isdigit() and 1 <= int(event.character) <= min(9, len(self.labels)):
            event.stop()
            self.dismiss(int(event.character) - 1)

    def action_cancel(self) -> None:
        self.dismiss(None)


def entry_choices(code: str, recorded_output: str | None) -> list[tuple[str, str | None]]:
    """(label, entry) pairs: the failing line's function first when known, the whole script, every function."""
    choices: list[tuple[str, str | None]] = []
    failing = default_entry(code, recorded_output)
    if failing is not None:
        choices.append((f"{failing}  (function of the failing line)", failing))
    choices.append((WHOLE_SCRIPT, None))
    choices.extend((name, name) for name in marker_functions(code) if name != failing)
    return choices


class EntryPicker(ChoicePicker):
    """Choose where tracing starts; ``choices`` holds the entry of each label."""

    def __init__(self, code: str, recorded_output: str | None, what: str) -> None:
        self.choices = entry_choices(code, recorded_output)
        super().__init__(f"Trace the {what}: start where?", [label for label, _ in self.choices])
