"""Two nearly equal lines shown where they differ, for messages one line wide.

A quoted trace line and the real one usually differ deep inside (past column
200 of a CWM line): cutting both at their start hides the difference. This
shows a window of each around the first differing character, with ``…``
where text is left out, and the column.
"""

from __future__ import annotations

CONTEXT = 20  # characters shown before the difference
WIDTH = 60  # characters shown of each line


def first_difference(a: str, b: str) -> int:
    """The index of the first character where ``a`` and ``b`` differ (the shorter one's length if one is a prefix)."""
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return i
    return min(len(a), len(b))


def excerpt(text: str, start: int, width: int = WIDTH) -> str:
    """``text[start:start + width]`` with ``…`` on each side that cuts text."""
    start = max(0, start)
    part = text[start : start + width]
    return ("…" if start else "") + part + ("…" if start + width < len(text) else "")


def where_they_differ(line: str, nearest: str) -> tuple[str, str, int]:
    """(excerpt of line, excerpt of nearest, 1-based column) around their first difference."""
    column = first_difference(line, nearest)
    start = max(0, column - CONTEXT)
    return excerpt(line, start), excerpt(nearest, start), column + 1
