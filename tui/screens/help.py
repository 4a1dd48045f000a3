"""F1 / ?: what the focused pane is for, and every key live on the screen under it."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.bindings import HELP_BINDINGS, palette_name
from tui.keys import with_keys


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = list(HELP_BINDINGS)

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 90%; max-width: 100; height: 90%; border: round $accent;
                                  background: $surface; padding: 0 1; }
    """

    def __init__(self, title: str, about: str, keys: list[tuple[str, str, str]]) -> None:
        super().__init__()
        self.title_text = title
        self.about = about
        self.keys = keys

    def compose(self) -> ComposeResult:
        text = Text()
        text.append(self.about + "\n\n")
        width = max((len(key) for key, _, _ in self.keys), default=4)
        for key, name, description in self.keys:
            text.append(f"{key:>{width}}  ", style="bold")
            text.append(f"{description}")
            text.append(f"  ({name})\n", style="dim")
        text.append("\nKeys are remapped by binding id in the [ui.keys] table of the config file.", style="dim")
        with VerticalScroll() as scroll:
            scroll.border_title = f"help: {self.title_text} (esc closes)"
            yield Static(text)

    def action_close(self) -> None:
        self.dismiss(None)


def help_for(screen) -> HelpScreen:
    """Help for the focused pane of ``screen`` (or the screen itself) and its live keys."""
    focused = screen.focused
    about, title = screen.HELP, type(screen).__name__.removesuffix("Screen").lower()
    for node in focused.ancestors_with_self if focused is not None else ():
        if getattr(node, "HELP", "") and getattr(node, "PANE_ID", ""):
            about, title = node.HELP, f"{node.PANE_ID} pane"
            break
    about = with_keys(screen, about)
    app = screen.app
    seen: set[str] = set()
    keys = []
    for active in screen.active_bindings.values():
        binding = active.binding
        if not binding.id or binding.id in seen or not active.enabled:
            continue
        seen.add(binding.id)
        keys.append((app.get_key_display(binding), palette_name(binding), binding.description))
    return HelpScreen(title, about, keys)
