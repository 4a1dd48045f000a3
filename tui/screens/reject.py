"""The reject prompt: one key picks the reason."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.bindings import REJECT_BINDINGS, REJECT_REASON_KEYS


class RejectScreen(ModalScreen[str]):
    """Dismisses with the chosen reason, or "" when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = list(REJECT_BINDINGS)
    HELP = "Pick why the row is rejected with one key; escape cancels."

    DEFAULT_CSS = """
    RejectScreen { align: center middle; }
    RejectScreen > Vertical { width: 44; height: auto; border: round $warning; padding: 0 1; background: $surface; }
    """

    def __init__(self, row_id: str) -> None:
        super().__init__()
        self.row_id = row_id

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = f"reject {self.row_id}"
            yield Static(id="reject-reasons", markup=False)

    def on_mount(self) -> None:
        # Keys as remapped by [ui.keys], read from the live bindings.
        keys = {active.binding.id: self.app.get_key_display(active.binding) for active in self.active_bindings.values()}
        lines = [
            f"{keys.get(f'reject.{reason}', key):<4} {label}" for reason, (key, label) in REJECT_REASON_KEYS.items()
        ]
        self.query_one("#reject-reasons", Static).update("\n".join([*lines, "esc  cancel"]))

    def action_choose(self, reason: str) -> None:
        self.dismiss(reason)
