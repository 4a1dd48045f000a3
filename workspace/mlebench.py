"""The client's mle-bench checkout ([ui] mlebench_checkout): where each competition's description is."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

COMPETITIONS = Path("mlebench") / "competitions"


def description_location(checkout: Path | None, competition_id: str) -> Path | None:
    """Where the competition's description.md belongs in the checkout (it may be missing); None without one."""
    return None if checkout is None else checkout / COMPETITIONS / competition_id / "description.md"


def description_path(checkout: Path | None, competition_id: str) -> Path | None:
    """The competition's description.md in the checkout, or None when there is none."""
    path = description_location(checkout, competition_id)
    return path if path is not None and path.is_file() else None


def checkout_problem(checkout: Path, competition_ids: Iterable[str] = ()) -> str | None:
    """Why ``checkout`` cannot show descriptions (missing, not a checkout, none of these competitions), or None."""
    if not checkout.is_dir():
        return f"{checkout}: not found (ui.mlebench_checkout)"
    if not (checkout / COMPETITIONS).is_dir():
        return f"{checkout}: not an mle-bench checkout, it has no {COMPETITIONS}/ (ui.mlebench_checkout)"
    wanted = sorted(set(competition_ids))
    if wanted and not any(description_path(checkout, c) for c in wanted):
        return f"{checkout}: no description.md for any of this dataset's competitions ({', '.join(wanted[:4])}...)"
    return None
