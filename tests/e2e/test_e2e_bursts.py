"""Keys sent to the real ``nodefix`` in one burst (no delay between them, as a slow SSH link delivers them).

Each burst is one tmux command line (``send-keys … ; send-keys …``), so the
keys reach the terminal back to back; what the fields hold afterwards, on
screen and in the SQLite file, must be exactly what was typed, in order.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_e2e_tmux import Db, Terminal, env, footer, open_session, wait  # noqa: F401 (env is a fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]


def burst(term: Terminal, *parts: tuple[str, ...]) -> None:
    """Several send-keys in one tmux invocation: ``("-l", "abc")`` types text, ``("BSpace", "BSpace")`` keys."""
    args: list[str] = []
    for part in parts:
        args += [*([";"] if args else []), "send-keys", "-t", term.name, *part]
    term._tmux(*args)


def test_bursts_lose_and_reorder_nothing(demo, env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    dataset, workspace = demo.dataset, tmp_path / "workspace"
    db = Db(workspace / "nodefix.db")
    term = open_session("burst", dataset, workspace, env)
    try:
        term.wait_for("done 0 · rejected 0", "the queue")
        term.keys("Enter")
        term.wait_for("row 1/14", "the task view")
        row_id = db.one("SELECT row_id FROM claims")[0]
        term.keys("5")
        term.wait_for("revised_analysis:", "the annotation pane")
        term.keys("Enter")
        wait(lambda: "x Reject" not in footer(term.screen()), "revised_analysis to take the keys", term.screen)

        burst(term, ("-l", "abc"), ("BSpace", "BSpace"), ("-l", "XY"))
        burst(term, ("-l", " one"), ("BSpace",), ("-l", "e two"))
        burst(term, ("-l", "!"), ("Tab",), ("-l", "the plan"))  # text right after tab lands in the next field
        wait(
            lambda: (
                (db.step(row_id, "revised_analysis"), db.step(row_id, "revised_plan")) == ("aXY one two!", "the plan")
            ),
            "both fields saved exactly as typed",
            lambda: f"{db.step(row_id, 'revised_analysis')!r} {db.step(row_id, 'revised_plan')!r}\n{term.screen()}",
        )

        term.keys("Escape")
        wait(lambda: "x Reject" in footer(term.screen()), "the field to let go of the keys", term.screen)
        term.keys("C-p")
        term.wait_for("Search for commands", "the palette")
        burst(term, ("-l", "reject"), ("BSpace",) * 6, ("-l", "fixed"))
        wait(lambda: palette_query(term.screen()) == "fixed", "the palette to show 'fixed'", term.screen)
        term.keys("Escape")
    finally:
        term.close()


def palette_query(screen: str) -> str | None:
    """The text in the command palette's input (the line with its search icon)."""
    for line in screen.split("\n"):
        if "🔎" in line:
            return line.split("🔎", 1)[1].strip(" ▊│▎").split("  ")[0].strip()
    return None
