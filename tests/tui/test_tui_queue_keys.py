"""Queue keys that cut keystrokes: j / k, g / G, and u for the next undecided row."""

from __future__ import annotations

from tui_helpers import SMALL, wait_until


async def test_j_k_g_and_next_undecided(make_app, workspace) -> None:
    workspace.set_status("row-1", "rejected", reason="other")

    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        queue = app.queue
        await wait_until(pilot, lambda: queue.table.row_count == 3, what="the table filled")
        await pilot.press("j", "j")
        assert queue.current_id() == "row-2"
        await pilot.press("k")
        assert queue.current_id() == "row-1"
        await pilot.press("g")
        assert queue.current_id() == "row-0"
        await pilot.press("G")
        assert queue.current_id() == "row-2"
        await pilot.press("g", "u")  # row-1 is rejected: the next undecided after row-0 is row-2
        assert queue.current_id() == "row-2"
