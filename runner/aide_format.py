"""How AIDE words a duration in the output it records, for the runner (recorded form) and the demo's driver.

Stdlib only: the demo copies this file into the sandbox beside ``aide_driver.py``.
"""

from __future__ import annotations


def naturaldelta(seconds: float) -> str:
    """``humanize.naturaldelta`` for durations under a day, word for word."""
    whole = int(seconds)  # humanize truncates to whole seconds
    if whole == 0:
        return "a moment"
    if whole == 1:
        return "a second"
    if whole < 60:
        return f"{whole} seconds"
    if whole < 120:
        return "a minute"
    if whole < 3600:
        return f"{whole // 60} minutes"
    if whole < 7200:
        return "an hour"
    return f"{whole // 3600} hours"
