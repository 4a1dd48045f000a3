"""Helpers for the app's Pilot tests (imported by name: pytest puts this folder on sys.path)."""

from __future__ import annotations

import time
from collections.abc import Callable

SMALL = (80, 24)
WIDE = (160, 48)


async def wait_until(pilot, predicate: Callable[[], object], timeout: float = 5.0, what: str = "condition"):
    """Let the app run until ``predicate()`` is true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await pilot.pause(0.02)


def screen_text(app) -> str:
    """What the terminal shows now, as plain text (the composited screen, modals included)."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def notices(app) -> list[str]:
    """Messages of the notifications shown so far, newest last."""
    return list(app.messages)


def notified(app, text: str) -> bool:
    return any(text in message for message in notices(app))
