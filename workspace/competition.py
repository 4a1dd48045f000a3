"""Competition ids as MLE-bench names them, checked before one becomes part of a path or a command."""

from __future__ import annotations

import re

from workspace.errors import InputError

_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")


def competition_problem(competition_id: str) -> str | None:
    """Why ``competition_id`` cannot name a competition's folder (a separator, "..", a control character), or None."""
    if _ID.fullmatch(competition_id) and ".." not in competition_id:
        return None
    return f"competition_id {competition_id!r} is not a competition's name (letters, digits, '.', '_', '-' only)"


def checked_competition_id(competition_id: str) -> str:
    problem = competition_problem(competition_id)
    if problem:
        raise InputError(problem)
    return competition_id
