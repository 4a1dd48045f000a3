"""A queue longer than the table's window (a million rows, here 2,500 through a window of 400)."""

from __future__ import annotations

import pytest
from tui_helpers import SMALL, screen_text, wait_until

import tui.screens.queue as queue_screen
from tui.screens.task import TaskScreen
from workspace.store import open_workspace

ROWS = 2500
WINDOW = 400


@pytest.fixture
def long_ws(make_dataset, tmp_path, monkeypatch):
    monkeypatch.setattr(queue_screen, "WINDOW_ROWS", WINDOW)
    monkeypatch.setattr(queue_screen, "ROWS_ABOVE", 100)
    monkeypatch.setattr(queue_screen, "EDGE_ROWS", 10)
    ws = open_workspace(make_dataset([{}] * ROWS, name="long.parquet"), tmp_path / "long-ws")
    yield ws
    ws.close()


async def test_the_window_moves_with_the_cursor_and_the_ends_are_reached(make_app, long_ws) -> None:
    app = make_app(ws=long_ws)
    async with app.run_test(size=SMALL) as pilot:
        queue = app.queue
        await wait_until(pilot, lambda: queue.is_mounted and queue.table.row_count == WINDOW, what="window")
        assert len(queue.shown_ids) == ROWS
        assert "left 2500" in screen_text(app)
        await pilot.press("G")
        await wait_until(pilot, lambda: queue.current_id() == "row-2499", what="the last row")
        assert queue.table.row_count <= WINDOW
        await pilot.press("g")
        await wait_until(pilot, lambda: queue.current_id() == "row-0", what="the first row")
        queue.select("row-385")
        await wait_until(pilot, lambda: queue.current_id() == "row-385", what="a row in the window")
        await pilot.press(*["down"] * 20)  # past the window's end (row 400)
        await wait_until(pilot, lambda: queue.current_id() == "row-405", what="a row past the first window")
        await wait_until(pilot, lambda: queue.table.row_count == WINDOW, what="the moved window filled")
        assert queue.table.cursor_row < 300  # the window starts after row 0 now
        await pilot.press(*["up"] * 120)  # past the moved window's start
        await wait_until(pilot, lambda: queue.current_id() == "row-285", what="a row above the moved window")
        assert "row-285" in screen_text(app)


async def test_filters_refresh_and_auto_advance_on_a_long_queue(make_app, long_ws) -> None:
    for n in range(1801, 1806):
        long_ws.set_status(f"row-{n}", "rejected", reason="other")

    app = make_app(ws=long_ws)
    async with app.run_test(size=SMALL) as pilot:
        queue = app.queue
        await wait_until(pilot, lambda: queue.is_mounted and queue.table.row_count > 0)
        queue.select("row-1800")
        await wait_until(pilot, lambda: queue.current_id() == "row-1800", what="a row far down")
        assert queue.next_undecided("row-1800") == "row-1806"
        assert queue.neighbour("row-1800", 1) == "row-1801"
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, TaskScreen))
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is queue)
        await wait_until(pilot, lambda: queue.current_id() == "row-1800", what="the cursor kept on its row")
        await pilot.press("s", "s", "s")  # status: rejected
        await wait_until(pilot, lambda: queue.filters.status == "rejected")
        assert list(queue.shown_ids) == [f"row-{n}" for n in range(1801, 1806)]
        assert queue.table.row_count == 5
        assert "showing 5 · done 0 · rejected 5" in screen_text(app)
