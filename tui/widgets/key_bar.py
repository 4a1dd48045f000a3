"""A one-line footer of the live keys, drawn as text.

Textual's Footer mounts a widget per key and rebuilds them on every focus
change, which costs a third of a second on the task view; this bar redraws
one line instead, from the same ``active_bindings``.
"""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget


class KeyBar(Widget):
    COMPONENT_CLASSES = {"key-bar--key", "key-bar--disabled"}

    DEFAULT_CSS = """
    KeyBar { dock: bottom; height: 1; background: $panel; color: $foreground; }
    KeyBar > .key-bar--key { color: $accent; text-style: bold; }
    KeyBar > .key-bar--disabled { color: $text-disabled; }
    """

    def __init__(self) -> None:
        super().__init__()
        self._keys = Text()

    def render(self) -> Text:
        return self._keys

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._bindings_changed(self.screen)

    def _bindings_changed(self, screen) -> None:
        key_style = self.get_component_rich_style("key-bar--key")
        disabled_style = self.get_component_rich_style("key-bar--disabled")
        text = Text(no_wrap=True, overflow="ellipsis", end="")
        seen: set[str] = set()
        for active in screen.active_bindings.values():
            binding = active.binding
            name = binding.id or binding.action
            if not binding.show or name in seen:
                continue
            seen.add(name)
            text.append(f" {self.app.get_key_display(binding)} ", style=key_style if active.enabled else disabled_style)
            text.append(binding.description, style="" if active.enabled else disabled_style)
        if text != self._keys:
            self._keys = text
            self.refresh()  # one fixed line: no layout pass needed
