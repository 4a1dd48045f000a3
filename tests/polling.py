"""The one sync polling loop of the tests (imported by name: pytest puts this folder on sys.path). The
Pilot tests' async one is ``wait_until`` in tui/tui_helpers.py."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def poll_until(condition: Callable[[], T], seconds: float = 15.0) -> T:
    """Poll ``condition`` until it holds or ``seconds`` pass (never a fixed sleep); its last value, so
    truthy if it held (``assert poll_until(...)``)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.05)
    return condition()
