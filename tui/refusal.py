"""What the workspace refuses (an InputError: a done check failing, a step that cannot be dropped) shown as a notice.

with refusal_shown(screen, title="Not done yet", timeout=10) as refused:
    ws.set_status(row_id, "done")
if refused:
    return
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from textual.notifications import SeverityLevel
from textual.widget import Widget

from workspace.errors import InputError


class Refusal:
    """True once the block was refused (and the notice shown)."""

    def __init__(self) -> None:
        self.error: InputError | None = None

    def __bool__(self) -> bool:
        return self.error is not None


@contextmanager
def refusal_shown(
    node: Widget, *, title: str = "", severity: SeverityLevel = "error", timeout: float = 8
) -> Iterator[Refusal]:
    """An InputError raised in the block is notified on ``node`` instead of raised; the code after the block goes on."""
    refusal = Refusal()
    try:
        yield refusal
    except InputError as error:
        refusal.error = error
        node.notify(str(error), title=title, severity=severity, timeout=timeout)
