"""Escape sequences and controls from scripts and datasets never reach the terminal raw."""

from __future__ import annotations

import pytest

from workspace.terminal_text import neutralise, one_line

HOSTILE = [
    "\x1b[2J\x1b[H",  # clear the screen, cursor home
    "\x1b]0;owned\x07",  # retitle the window
    "\x1b]52;c;cm0gLXJmIH4=\x07",  # write the clipboard
    "\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\",  # a hyperlink
    "\x1bP+q544e\x1b\\",  # DCS query
    "\x9b31m",  # 8-bit CSI
    "\x1bc",  # full reset
    "\x1b(0",  # line-drawing charset
]


@pytest.mark.parametrize("sequence", HOSTILE)
def test_escape_sequences_are_removed(sequence):
    shown = neutralise(f"before{sequence}after")
    assert "\x1b" not in shown
    assert "\x9b" not in shown
    assert "\x07" not in shown
    assert shown.startswith("before")
    assert shown.endswith("after")


def test_other_controls_become_visible_and_layout_is_kept():
    assert neutralise("a\x07b\x08c\x00d\x7fe\x85f\tg\nh") == "a^Gb^Hc^@d^?e<85>f\tg\nh"
    assert neutralise("50%\r100%") == "50%^M100%"
    assert neutralise("50%\r100%\x1b[K", keep_carriage_return=True) == "50%\r100%"


def test_a_table_cell_is_one_line():
    assert one_line("row\x1b[31m-1\n\tx\r") == "row-1  x^M"
