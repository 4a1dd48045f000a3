"""Script output and dataset text made safe to show on a terminal: no control character reaches it raw.

Escape sequences (CSI, OSC, and the other ESC forms, 7- and 8-bit) are
removed, so nothing from a script or a dataset can move the cursor, retitle
the window, set the clipboard or switch the character set; every other C0 or
C1 control is shown as a visible caret form (``^G``, ``^[``, ``<9b>``).
Colour is dropped here too: where the TUI shows colour it renders it through
Rich (``Text.from_ansi``), never by passing codes through.
"""

from __future__ import annotations

import re

_ESCAPE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor moves, erase
    r"|\x1b\][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"  # OSC: titles, hyperlinks, clipboard
    r"|\x1b[PX^_][^\x1b\x9c]*(?:\x1b\\|\x9c)?"  # DCS, SOS, PM, APC strings
    r"|\x1b[ -/]*[0-~]"  # the other two- and three-character escapes (charset, keypad, reset)
    r"|\x9b[0-?]*[ -/]*[@-~]"  # 8-bit CSI
    r"|[\x90\x98\x9d\x9e\x9f][^\x9c\x07]*(?:\x9c|\x07)?"  # 8-bit string introducers
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # all C0 and C1 but tab and newline
_LINE_BREAKS = re.compile(r"[\t\n]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    if code < 0x20:
        return "^" + chr(code + 0x40)
    return "^?" if code == 0x7F else f"<{code:02x}>"


def neutralise(text: str, *, keep_carriage_return: bool = False) -> str:
    """``text`` with escape sequences removed and other controls made visible; tabs and newlines are kept.

    ``keep_carriage_return`` keeps a bare ``\\r`` for a live stream (progress bars redraw their line).
    """
    if text.isprintable():  # no control character at all: the common case, at C speed
        return text
    text = _ESCAPE.sub("", text)
    if keep_carriage_return:
        return "\r".join(_CONTROL.sub(_visible, part) for part in text.split("\r"))
    return _CONTROL.sub(_visible, text)


def one_line(text: str) -> str:
    """``text`` neutralised for one cell of a table: tabs and newlines become spaces."""
    return text if text.isprintable() else _LINE_BREAKS.sub(" ", neutralise(text))
