"""Keys for a focused text field are handled at once, in the order they arrive.

Textual types a printable key in the focused widget's own message queue, but
runs a bound key (backspace, tab, the arrows, ctrl+k) only once the key has
bubbled back up to the app, several queues later. Keys that arrive in one
burst (a slow SSH link delivers them so) are then reordered: ``abc``, two
backspaces and ``XY`` stored ``abcXY``, and text typed right after tab landed
in the field tab was leaving. Here the app handles each key for a focused
TextArea or Input itself, before reading the next one: it types the key, or
runs the binding the key has there, exactly as Textual would, only in order.
"""

from __future__ import annotations

from textual import events
from textual.app import App
from textual.widgets import Input, TextArea

from tui.widgets.editors import FieldEditor


def typed_text(widget: TextArea | Input, event: events.Key) -> str | None:
    """What the key types into the widget, or None when it types nothing (a bound or unknown key)."""
    if isinstance(widget, TextArea):
        if event.key == "enter":
            return "\n"
        if event.key == "tab" and widget.tab_behavior == "indent":
            if widget.indent_type == "tabs":
                return "\t"
            row, column = widget.cursor_location
            width = widget.indent_width
            return " " * (width - widget.get_column_width(row, column) % width)
    return event.character if event.is_printable else None


def type_text(widget: TextArea | Input, text: str) -> None:
    if isinstance(widget, TextArea):
        if not widget.read_only:
            widget.replace(text, *widget.selection, maintain_selection_offset=False)
        return
    start, end = widget.selection
    if start == end:
        widget.insert_text_at_cursor(text)
    else:
        widget.replace(text, start, end)


async def handle_key_in_order(app: App, event: events.Key) -> bool:
    """Handle a key from the terminal for the focused text field now; False leaves it to Textual."""
    widget = app.focused
    if event.is_forwarded or not isinstance(widget, (TextArea, Input)):
        return False
    active = app.screen.active_bindings.get(event.key)
    if active is not None and active.binding.priority:
        return False  # ctrl+c and the like: Textual runs priority bindings before anything, in order already
    if isinstance(widget, FieldEditor) and event.key == "escape":
        widget.leave()
        return True
    text = typed_text(widget, event)
    if text is not None:
        type_text(widget, text)
        return True
    if active is not None and active.enabled:
        await app.run_action(active.binding.action, active.node)
        return True
    return False
