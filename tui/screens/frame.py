"""One trace frame in full: its event, source, value and every variable on a line of its own, wrapped."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.bindings import FRAME_BINDINGS
from tui.widgets.trace_compact import Frame, detail_lines


class FrameScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = list(FRAME_BINDINGS)
    HELP = "The trace frame under the cursor, in full. Up and down scroll; the close key goes back to the trace."

    DEFAULT_CSS = """
    FrameScreen { align: center middle; }
    FrameScreen > VerticalScroll { width: 96%; height: 90%; border: round $accent; background: $surface;
                                   padding: 0 1; }
    """

    def __init__(self, frame: Frame, frame_no: int) -> None:
        super().__init__()
        self.frame = frame
        self.frame_no = frame_no

    def compose(self) -> ComposeResult:
        text = Text()
        for label, value in detail_lines(self.frame, self.frame_no):
            text.append(f"{label}: ", style="bold")
            text.append(value + "\n")
        with VerticalScroll(id="frame-detail") as scroll:
            keys = self.app.get_key_display(FRAME_BINDINGS[0])
            scroll.border_title = f"trace frame ({keys} closes)"
            yield Static(text, markup=False)

    def on_mount(self) -> None:
        self.query_one("#frame-detail").focus()

    def action_close(self) -> None:
        self.dismiss(None)
