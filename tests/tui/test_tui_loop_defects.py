"""Defects of the annotator's loop, each reproduced by its keys: where auto-advance and undo land, the diff
view, the focused field, the output banner, the description and the failing line in the recorded output."""

from __future__ import annotations

from pathlib import Path

from tui_helpers import SMALL, notified, open_task, screen_text, wait_until

from tui.screens.reject import RejectScreen
from tui.widgets.metadata_pane import _names_line
from workspace.config import Config, UISettings


async def test_a_decision_advances_past_decided_rows_and_undo_goes_back(make_app, workspace) -> None:
    workspace.set_status("row-1", "rejected", reason="other")

    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        task = await open_task(app, pilot)
        await pilot.press("x")
        await wait_until(pilot, lambda: isinstance(app.screen, RejectScreen))
        await pilot.press("c")
        await wait_until(pilot, lambda: task.row_id == "row-2", what="the next undecided row (row-1 is rejected)")
        await pilot.press("u")
        await wait_until(pilot, lambda: task.row_id == "row-0", what="undo to show the row it undid")
        assert workspace.status("row-0")[0] == "untouched"
        assert notified(app, "Undone on row 1 (row-0): status rejected (no_code) -> untouched; the row is shown again")
        await pilot.press("ctrl+n")
        await wait_until(pilot, lambda: task.row_id == "row-2", what="ctrl+n: the next undecided row")


async def test_escape_closes_the_diff_and_the_next_row_opens_on_the_code(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        task = await open_task(app, pilot)
        await pilot.press("w")
        assert task.code_pane.showing_diff
        await pilot.press("escape")
        assert app.screen is task
        assert not task.code_pane.showing_diff
        await pilot.press("w", "right_square_bracket")
        await wait_until(pilot, lambda: task.row_id == "row-1", what="the next row")
        assert not task.code_pane.showing_diff


async def test_n_brings_revised_analysis_into_view(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        task = await open_task(app, pilot)
        fields = task.annotation_pane.query_one("#annotation-fields")
        await pilot.press("5", "enter", "tab", "tab")  # the cursor in cwm_analysis, the view scrolled down
        await pilot.press("escape", "n")
        editor = task.annotation_pane.editor("revised_analysis")
        await wait_until(pilot, lambda: app.focused is editor, what="revised_analysis focused")
        await wait_until(
            pilot,
            lambda: fields.region.y <= editor.region.y < fields.region.bottom,
            what="revised_analysis in sight",
        )


async def test_the_banner_shows_the_last_run_instead_of_no_run_yet(make_app, workspace) -> None:
    workspace.add_run(
        "row-0", 0, "original", {"verdict": {"kind": "error", "match": "same", "detail": "KeyError"}, "duration": 1.0}
    )

    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await open_task(app, pilot)
        await pilot.press("3")
        text = screen_text(app)
        assert "No run yet" not in text
        assert "last run #1 (original): error" in text


async def test_a_missing_description_says_where_it_was_looked_for(make_app, tmp_path: Path) -> None:
    checkout = tmp_path / "mle-bench"
    checkout.mkdir()

    app = make_app(cfg=Config(ui=UISettings(mlebench_checkout=checkout)))
    async with app.run_test(size=SMALL) as pilot:
        task = await open_task(app, pilot)
        task.query_one("#metadata-scroll").scroll_end(animate=False)
        await wait_until(pilot, lambda: "No description.md at" in screen_text(app), what="the missing note")


async def test_the_metadata_pane_scrolls_without_tab(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        task = await open_task(app, pilot)
        await pilot.press("1")
        await wait_until(pilot, lambda: app.focused is task.query_one("#metadata-scroll"), what="the scroll")


def test_the_failing_line_is_found_under_any_path_of_runfile() -> None:
    for path in ("runfile.py", "/sandbox/work/runfile.py", "/tmp/x/runfile.py"):
        assert _names_line(f'  File "{path}", line 12, in <module>', 12)
    assert not _names_line('  File "/tmp/x/runfile.py", line 123, in <module>', 12)
    assert not _names_line('  File "/usr/lib/python3/other.py", line 12, in f', 12)
