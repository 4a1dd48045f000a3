"""Helpers for the app's Pilot tests (imported by name: pytest puts this folder on sys.path)."""

from __future__ import annotations

import asyncio
import html
import re
import time
from collections.abc import Callable

from tui.screens.task import TaskScreen

SMALL = (80, 24)
WIDE = (160, 48)


async def wait_until(pilot, predicate: Callable[[], object], timeout: float = 5.0, what: str = "condition"):
    """Let the app run until ``predicate()`` is true (its value is returned); fail after ``timeout`` seconds.
    Once the app has quit, the test's event loop still runs meanwhile (for what the quit left going)."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        if pilot.app.is_running:
            await pilot.pause(0.02)
        else:
            await asyncio.sleep(0.02)


async def open_task(app, pilot, row: int = 0) -> TaskScreen:
    """From the queue just started: go ``row`` rows down, press enter, and return the task view once it shows."""
    await pilot.pause()
    await pilot.press(*["down"] * row, "enter")
    return await wait_until(pilot, lambda: isinstance(app.screen, TaskScreen) and app.screen, what="task view")


CELL = 12.2  # the width of one cell in Textual's SVG screenshots (rich's export_svg: 0.61 of its 20px font)
SVG_TEXT = re.compile(
    r'<text class="[^"]*" x="([\d.]+)" y="[\d.]+" textLength="[\d.]+" '
    r'clip-path="url\(#[\w-]*?line-(\d+)\)">(.*?)</text>'
)


def screen_text(app) -> str:
    """What the terminal shows now, as plain text (modals included), read from the app's SVG screenshot."""
    width, height = app.size
    rows = [[" "] * width for _ in range(height)]
    for x, line, text in SVG_TEXT.findall(app.export_screenshot()):
        row, column = rows[int(line)], round(float(x) / CELL)
        for char in html.unescape(text).replace("\xa0", " "):
            if column < width:
                row[column] = char
            column += 1
    return "\n".join("".join(row).rstrip() for row in rows)


def notices(app) -> list[str]:
    """Messages of the notifications shown so far, newest last."""
    return list(app.messages)


def notified(app, text: str) -> bool:
    return any(text in message for message in notices(app))
