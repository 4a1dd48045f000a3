"""The placeholders a drafted cwm_analysis leaves for the annotator's reasoning, and finding any left over.

A draft (``nodefix draft``, the annotation pane's draft key) interleaves quoted
trace lines with placeholders; the done rules (``d``, ``annotate --done``,
``validate``) refuse an analysis while any placeholder is still in it.
"""

from __future__ import annotations

PLACEHOLDER_OPEN = "[[write: "
PLACEHOLDER_CLOSE = "]]"
_SHOWN_CHARS = 60


def placeholder(hint: str) -> str:
    """A placeholder paragraph asking for ``hint``."""
    return f"{PLACEHOLDER_OPEN}{hint}{PLACEHOLDER_CLOSE}"


def placeholder_problems(text: str) -> list[str]:
    """One line per analysis line that still holds a placeholder, for people."""
    return [
        f"cwm_analysis line {n} still holds a draft placeholder: {line.strip()[:_SHOWN_CHARS]!r}"
        for n, line in enumerate(text.split("\n"), start=1)
        if PLACEHOLDER_OPEN.strip() in line
    ]
