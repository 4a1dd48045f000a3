"""A refused quote shows where it differs from the trace line, however deep in the line that is."""

from __future__ import annotations

from workspace.done_check import describe_verbatim_problem
from workspace.line_difference import first_difference, where_they_differ

REAL = '<|frame_sep|><|line_sep|>{"train": "' + "x" * 180 + '", "k": "3"}<|action_sep|>    new_d = {}'


def test_the_message_shows_both_lines_at_the_column_they_differ() -> None:
    quoted = REAL.replace("new_d = {}", "new_d = []")
    column = REAL.index("new_d = {}") + len("new_d = ") + 1
    message = describe_verbatim_problem(2, quoted, REAL)
    assert f"differs at column {column}:" in message
    assert "new_d = []" in message
    assert "new_d = {}" in message
    assert "<|frame_sep|>" not in message  # the common start is left out, with …
    assert "…" in message


def test_first_difference_of_a_prefix_and_of_equal_starts() -> None:
    assert first_difference("abc", "abd") == 2
    assert first_difference("ab", "abc") == 2
    quoted, real, column = where_they_differ("short x", "short y")
    assert (quoted, real, column) == ("short x", "short y", 7)


def test_no_nearest_line_still_names_the_line() -> None:
    assert describe_verbatim_problem(4, "prose, not a trace line", None).startswith(
        "cwm_analysis line 4 is not a line of the trace: 'prose, not a trace line'"
    )
