"""The queue: rows, counts, filters, search, opening a row; bad theme and key settings."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable
from tui_helpers import SMALL, open_task, screen_text, wait_until

from tui.screens.queue import SEARCH_COLUMNS
from tui.screens.task import TaskScreen
from workspace.config import Config, UISettings
from workspace.errors import InputError
from workspace.store import open_workspace


async def test_queue_lists_every_row_with_counts(make_app, workspace) -> None:
    workspace.set_status("row-1", "rejected", reason="no_code")

    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        table = app.queue.query_one(DataTable)
        assert table.row_count == 3
        text = screen_text(app)
        assert "done 0 · rejected 1 · left 2" in text
        assert "nlp-getting-started" in text
        assert "rej:no_code" in text


async def test_filters_cycle_and_clear(make_app, workspace) -> None:
    workspace.set_status("row-1", "rejected", reason="no_code")

    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        table = app.queue.query_one(DataTable)
        await pilot.press("s")  # status: untouched
        assert app.queue.filters.status == "untouched"
        assert table.row_count == 2
        await pilot.press("s", "s")  # in_progress, then rejected
        assert app.queue.filters.status == "rejected"
        assert app.queue.shown_ids == ["row-1"]
        assert "filter: status=rejected" in screen_text(app)
        await pilot.press("escape")
        assert table.row_count == 3
        await pilot.press("c")  # first competition in sorted order
        assert app.queue.shown_ids == ["row-2"]
        await pilot.press("escape", "v")  # verdict: no run yet anywhere
        assert app.queue.filters.verdict == "none"
        assert table.row_count == 3


async def test_incremental_search_by_id_and_text(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        await pilot.press("slash", *"random forest")
        await wait_until(pilot, lambda: app.queue.shown_ids == ["row-2"], what="search by text")
        await pilot.press("enter")  # back to the table, filter kept
        assert app.queue.query_one(DataTable).has_focus
        await pilot.press("escape")
        await pilot.press("slash", *"ROW-1", "enter")
        await wait_until(pilot, lambda: app.queue.shown_ids == ["row-1"], what="search by id")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, TaskScreen))
        assert app.screen.row_id == "row-1"


async def test_enter_opens_the_row_under_the_cursor(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await open_task(app, pilot, row=1)
        assert app.screen.row_id == "row-1"
        assert "row 2/3 · untouched · step 0 · nlp-getting-started · row-1" in screen_text(app)
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is app.queue)


def test_search_matches_text_columns(workspace) -> None:
    assert workspace.dataset.matching_rows("keyerror", SEARCH_COLUMNS).tolist() == [1]  # row-1
    assert workspace.dataset.matching_rows("read_csv", SEARCH_COLUMNS).tolist() == [0, 1, 2]


def test_unknown_theme_is_an_input_error(make_app) -> None:
    with pytest.raises(InputError, match="unknown theme 'neon'"):
        make_app(theme="neon")


def test_unknown_binding_id_in_keys_is_an_input_error(make_app) -> None:
    with pytest.raises(InputError, match=r"\[ui.keys\]: unknown binding id 'row.explode'"):
        make_app(cfg=Config(ui=UISettings(keys={"row.explode": "x"})))


def test_every_binding_in_the_app_has_a_remappable_id() -> None:
    from tui.app import checked_keymap
    from tui.bindings import ALL_BINDINGS

    assert all(binding.id for binding in ALL_BINDINGS)
    assert checked_keymap({"trace.mark": "m", "trace.first_exception": "x", "picker.cancel": "q"})


async def test_keys_are_remapped_from_the_config(make_app, workspace) -> None:
    app = make_app(cfg=Config(ui=UISettings(keys={"row.reject": "j", "reject.not_buggy": "9"})))
    async with app.run_test(size=SMALL) as pilot:
        await open_task(app, pilot)
        await pilot.press("x")
        assert workspace.status("row-0")[0] == "untouched"
        await pilot.press("j")
        await wait_until(pilot, lambda: "9    not buggy" in screen_text(app), what="remapped reason key")
        await pilot.press("9")
        await wait_until(pilot, lambda: workspace.status("row-0")[:2] == ("rejected", "not_buggy"))


@pytest.mark.parametrize("theme", ["light", "high-contrast"])
async def test_every_theme_loads_and_draws_the_task_view(make_app, theme) -> None:
    app = make_app(theme=theme)
    async with app.run_test(size=SMALL) as pilot:
        await open_task(app, pilot)
        assert app.theme == f"nodefix-{theme}"
        assert "1 metadata" in screen_text(app)


async def test_a_long_queue_fills_in_chunks_and_a_filter_stops_the_old_fill(make_app, make_dataset, tmp_path) -> None:
    ws = open_workspace(make_dataset([{}] * 2500, name="long.parquet"), tmp_path / "long-ws")
    ws.set_status("row-2400", "rejected", reason="other")

    try:
        app = make_app(ws=ws)
        async with app.run_test(size=SMALL) as pilot:
            await wait_until(pilot, lambda: app.queue.is_mounted and app.queue.table.row_count > 0)
            await pilot.press("s", "s", "s")  # rejected, while the first fill is still adding rows
            table = app.queue.query_one(DataTable)
            assert app.queue.shown_ids == ["row-2400"]
            await pilot.pause(0.3)  # long enough for several chunks of the old fill to have come
            assert table.row_count == 1
            await pilot.press("escape")
            await wait_until(pilot, lambda: table.row_count == 2500, what="every row")
    finally:
        ws.close()


async def test_a_starved_time_limit_is_flagged_in_the_queue(make_app, workspace) -> None:
    starved = "starved: cpu 2.0 s of wall 360.0 s"
    verdict = {"kind": "time_limit", "detail": "reached the time limit without raising", "match": None}
    workspace.add_run("row-1", 0, "replicate", {"verdict": {**verdict, "starved": starved}, "output_tail": ""})
    workspace.add_run("row-2", 0, "replicate", {"verdict": {**verdict, "starved": None}, "output_tail": ""})

    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        lines = [line for line in screen_text(app).splitlines() if "time_limit" in line]
        assert len(lines) == 2
        assert sum("starved" in line for line in lines) == 1
