"""Nothing is lost: typing is saved within a second, reopening restores row, pane and cursor,
time accumulates, and a row held by another process is read-only."""

from __future__ import annotations

import time

from textual.widgets import TextArea
from tui_helpers import SMALL, notified, open_task, screen_text, wait_until

from tui.screens.task import TaskScreen
from workspace.store import open_workspace


async def test_typing_is_saved_within_a_second_without_leaving_the_field(make_app, workspace) -> None:
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await open_task(app, pilot)
        await pilot.press("5", "enter", *"cause: wrong path")
        typed = time.monotonic()
        await wait_until(
            pilot,
            lambda: workspace.step("row-0").revised_analysis == "cause: wrong path",
            timeout=1.0,
            what="autosave of revised_analysis",
        )
        assert time.monotonic() - typed < 1.0
        assert app.focused.id == "revised_analysis"  # saved while still typing there
        await pilot.press("2", "enter", *"next")  # "2" is typed into the field, not a pane switch
        await wait_until(
            pilot,
            lambda: workspace.step("row-0").revised_analysis == "cause: wrong path2\nnext",
            timeout=1.0,
            what="second autosave",
        )
        assert app.screen.pane == "annotation"


async def test_code_edits_become_fixed_code_with_a_diff_count(make_app, workspace) -> None:
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        task = await open_task(app, pilot)
        assert workspace.step("row-0").fixed_code == ""  # opening alone saves nothing
        await pilot.press("2", "enter", "down", "end", *"  # was ./input")
        await wait_until(pilot, lambda: "# was ./input" in workspace.step("row-0").fixed_code, timeout=1.0)
        assert workspace.step("row-0").code == workspace.source("row-0").code
        # the diff is counted off the UI loop, a moment after the save
        await wait_until(pilot, lambda: "fix: +1 -1 lines" in screen_text(app), what="the diff count")
        assert "in_progress" in screen_text(app)
        await pilot.press("escape", "w")
        added = "+train = pd.read_csv('./input/train.csv')  # was ./input"
        await wait_until(pilot, lambda: added in screen_text(app), what="the diff view")
        assert task.code_pane.has_class("diff")


async def test_reopening_returns_to_the_same_row_pane_and_cursor(make_app, workspace) -> None:
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await open_task(app, pilot, row=1)
        await pilot.press("5", "enter", *"line one", "enter", *"line two")
        await pilot.press("escape", "q")
        await wait_until(pilot, lambda: not app.is_running, what="q quits")
    assert workspace.step("row-1").time_spent > 0, workspace.ui_state("last")
    assert workspace.ui_state("last")["row"] == "row-1", workspace.ui_state("last")

    app = make_app()  # the next start
    async with app.run_test(size=SMALL) as pilot:
        task = await wait_until(pilot, lambda: isinstance(app.screen, TaskScreen) and app.screen)
        assert task.row_id == "row-1"
        assert task.pane == "annotation"
        editor = task.query_one("#revised_analysis", TextArea)
        assert editor.text == "line one\nline two"
        assert editor.cursor_location == (1, 8)
        assert "5 annotation" in screen_text(app)
        assert "line two" in screen_text(app)
        await pilot.press("escape")
        assert app.queue.current_id() == "row-1"


async def test_reopening_on_another_pane_stays_there_and_answers_keys(make_app, workspace) -> None:
    """A restored pane once fought the tab bar's own start-up activation, swapping panes forever."""

    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await open_task(app, pilot)
        await pilot.press("3", "q")
        await wait_until(pilot, lambda: not app.is_running, what="q quits")

    app = make_app()  # the next start
    async with app.run_test(size=SMALL) as pilot:
        task = await wait_until(pilot, lambda: isinstance(app.screen, TaskScreen) and app.screen)
        for _ in range(5):
            await pilot.pause()
            assert task.pane == "output"
        await pilot.press("1")
        await wait_until(pilot, lambda: task.pane == "metadata", timeout=2.0, what="1 shows the metadata")


async def test_a_row_held_by_another_process_is_read_only(make_app, workspace) -> None:
    other = open_workspace(workspace.path)  # a second holder, as another nodefix would be
    try:
        assert other.claim("row-0")

        app = make_app()
        async with app.run_test(size=SMALL) as pilot:
            await pilot.pause()
            assert "row-0     spaceship-titanic   claimed" in screen_text(app)
            task = await open_task(app, pilot)
            assert task.read_only
            assert "READ-ONLY" in screen_text(app)
            assert notified(app, "is being edited by")
            await pilot.press("4", "t")  # the trace pane's own key asks too
            await wait_until(pilot, lambda: notified(app, "Read-only: row-0 is open in"), what="refused")
            assert app.screen is task  # no entry picker opened
            assert workspace.traces("row-0", 0) == []
            await pilot.press("x", "f", "5", "enter", *"mine")
            await pilot.pause(0.6)
            assert workspace.status("row-0")[0] == "untouched"
            assert workspace.step("row-0").fixable is None
            assert workspace.step("row-0").revised_analysis == ""
            assert task.query_one("#revised_analysis", TextArea).text == ""
            await pilot.press("escape", "escape")
            await wait_until(pilot, lambda: app.screen is app.queue)
            assert other.claimed_by("row-0") is None  # still ours: leaving did not release it
            assert workspace.claimed_by("row-0") is not None
    finally:
        other.close()


async def test_read_only_names_the_annotator_and_ends_when_the_other_lets_go(make_app, workspace) -> None:
    other = open_workspace(workspace.path, annotator="bob")
    try:
        assert other.claim("row-0")

        app = make_app()
        async with app.run_test(size=SMALL) as pilot:
            task = await open_task(app, pilot)
            assert task.read_only
            assert "READ-ONLY: open in bob · " in screen_text(app)
            other.release("row-0")
            await wait_until(pilot, lambda: not task.read_only, timeout=10, what="the row editable here")
            assert "READ-ONLY" not in screen_text(app)
            await pilot.press("f")
            await wait_until(pilot, lambda: workspace.step("row-0").fixable is True, what="a decision taken")
    finally:
        other.close()
