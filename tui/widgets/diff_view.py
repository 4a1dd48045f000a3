"""The fix shown as a unified diff against the step's buggy code, with a changed-line count."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from rich.style import StyleType
from rich.text import Text


@dataclass(frozen=True)
class FixDiff:
    lines: list[str]
    added: int
    removed: int

    @property
    def summary(self) -> str:
        if not self.added and not self.removed:
            return "fix: no change yet"
        return f"fix: +{self.added} -{self.removed} lines"


def fix_diff(buggy: str, fixed: str) -> FixDiff:
    lines = list(difflib.unified_diff(buggy.splitlines(), fixed.splitlines(), "buggy", "fix", n=2, lineterm=""))
    added = sum(1 for line in lines if line.startswith("+") and not line.startswith("+++"))
    removed = sum(1 for line in lines if line.startswith("-") and not line.startswith("---"))
    return FixDiff(lines, added, removed)


def render_diff(diff: FixDiff, added_style: StyleType, removed_style: StyleType, hunk_style: StyleType) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    if not diff.lines:
        return Text("The fix is the same as the buggy code.")
    for line in diff.lines:
        if line.startswith(("+++", "---")):
            style = hunk_style
        elif line.startswith("+"):
            style = added_style
        elif line.startswith("-"):
            style = removed_style
        elif line.startswith("@@"):
            style = hunk_style
        else:
            style = ""
        text.append(line + "\n", style=style)
    return text
