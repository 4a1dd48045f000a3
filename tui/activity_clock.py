"""Time spent on a row: counted only while the annotator acts on it (keys, runs), with an idle cut-off.

Textual-free, so the rules are plain to test and the task view only calls it:
``act()`` on every key and at the start and end of a run, ``take()`` to
collect what to add to the row's time. Between two actions at most
IDLE_CUTOFF counts; while a run is going the whole wait counts. A row that
is only being viewed (no action at all, or a done row: the screen does not
call ``act`` for those) adds nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable

IDLE_CUTOFF = 120.0  # seconds: a longer pause between actions counts as this much


class ActivityClock:
    def __init__(self, idle_cutoff: float = IDLE_CUTOFF, now: Callable[[], float] = time.monotonic) -> None:
        self.idle_cutoff = idle_cutoff
        self._now = now
        self._last: float | None = None  # time of the latest action on the open row
        self._counted = 0.0  # of the time since that action, how much is already counted
        self._pending = 0.0  # counted, not yet taken
        self._runs = 0  # runs going: their waiting counts in full

    def open(self) -> None:
        """A row was opened: nothing counts until the first action on it."""
        self._last = None
        self._counted = self._pending = 0.0
        self._runs = 0

    def act(self) -> None:
        self._count_up_to_now()
        self._last, self._counted = self._now(), 0.0

    def run_started(self) -> None:
        self.act()
        self._runs += 1

    def run_ended(self) -> None:
        self.act()
        self._runs = max(0, self._runs - 1)

    def take(self) -> float:
        """Seconds counted since the last take (a pause in progress counts up to the cut-off)."""
        self._count_up_to_now()
        seconds, self._pending = self._pending, 0.0
        return seconds

    def give_back(self, seconds: float) -> None:
        """Taken seconds that could not be stored: the next take() gives them again."""
        self._pending += seconds

    def _count_up_to_now(self) -> None:
        if self._last is None:
            return
        since = self._now() - self._last
        span = since if self._runs else min(since, self.idle_cutoff)
        self._pending += span - self._counted
        self._counted = span
