"""Keys decide: reject with a reason, fixable / not fixable, bug confirmed, done, undo, rows and steps."""

from __future__ import annotations

from textual.widgets import TextArea
from tui_helpers import SMALL, notices, notified, open_task, screen_text, wait_until

from tui.screens.reject import RejectScreen
from workspace.run_rules import code_sha256


async def test_reject_asks_a_reason_then_moves_on_and_undo_restores(make_app, workspace) -> None:
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        task = await open_task(app, pilot)
        await pilot.press("x")
        await wait_until(pilot, lambda: isinstance(app.screen, RejectScreen))
        assert "ran past the limit" in screen_text(app)
        await pilot.press("t")
        await wait_until(pilot, lambda: task.row_id == "row-1", what="next row")
        assert workspace.status("row-0")[:2] == ("rejected", "time_limit")
        assert workspace.claimed_by("row-0") is None  # released when we moved on
        await pilot.press("u")
        await wait_until(pilot, lambda: workspace.status("row-0")[0] == "untouched", what="undo")
        # What the undo did, from the state it left, not the decision it reversed read forwards.
        assert notified(app, "Undone on row 1 (row-0): status rejected (time_limit) -> untouched; the row is shown")
        assert task.row_id == "row-0"


async def test_undoing_a_flag_says_what_the_flag_is_now(make_app, workspace) -> None:
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await open_task(app, pilot)
        await pilot.press("f", "u")
        await wait_until(pilot, lambda: workspace.step("row-0").fixable is None, what="undo")
        assert notified(app, "Undone: step 0: fixable yes -> undecided")
        assert not notified(app, "fixable = yes")


async def test_escape_cancels_the_reject_prompt(make_app, workspace) -> None:
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        task = await open_task(app, pilot)
        await pilot.press("x", "escape")
        await wait_until(pilot, lambda: app.screen is task)
        assert workspace.status("row-0")[0] == "untouched"
        assert task.row_id == "row-0"


async def test_fixable_not_fixable_bug_confirmed_and_ctrl_z(make_app, workspace) -> None:
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        task = await open_task(app, pilot)
        await pilot.press("f")
        assert workspace.step("row-0").fixable is True
        await pilot.press("b")
        assert workspace.step("row-0").bug_confirmed is True
        await pilot.press("5")
        assert "bug confirmed: yes (b) · fixable: yes (f/n)" in screen_text(app)
        await pilot.press("1", "n")
        assert workspace.step("row-0").fixable is False
        await wait_until(
            pilot,
            lambda: app.focused is not None and app.focused.id == "revised_analysis",
            what="focus on revised_analysis",
        )
        assert task.pane == "annotation"
        await pilot.press(*"needs internet")
        await pilot.press("escape", "ctrl+z")
        assert workspace.step("row-0").fixable is True  # ctrl+z outside a field undoes the decision
        assert workspace.step("row-0").revised_analysis == "needs internet"  # typing was saved, not undone


async def test_letters_type_in_fields_and_escape_gives_keys_back(make_app, workspace) -> None:
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        task = await open_task(app, pilot)
        await pilot.press("5", "enter")
        assert app.focused.id == "revised_analysis"
        await pilot.press(*"xfnd q[]")
        await pilot.press("escape")
        assert app.focused is task.annotation_pane
        assert workspace.status("row-0")[0] == "in_progress"
        assert workspace.step("row-0").fixable is None
        assert workspace.step("row-0").revised_analysis == "xfnd q[]"
        assert task.row_id == "row-0"
        assert app.is_running


async def test_done_refused_with_blockers_then_done_and_row_moves(make_app, workspace) -> None:
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        task = await open_task(app, pilot)
        await pilot.press("2", "enter", "f7", *"def (", "escape", "d")
        assert workspace.status("row-0")[0] == "in_progress"
        await wait_until(pilot, lambda: notified(app, "cannot be done yet"), what="blockers notice")
        await pilot.press("ctrl+z", "enter", "f7", *"print(1)", "escape", "d")
        await wait_until(pilot, lambda: notified(app, "fixable or not is undecided"), what="undecided")
        await pilot.press("n", *"needs internet", "escape", "d")
        await wait_until(pilot, lambda: notified(app, "the bug was never replicated"), what="not replicated")
        await pilot.press("b", "d")  # confirmed by hand
        await wait_until(pilot, lambda: task.row_id == "row-1", what=f"done moves on {notices(app)}")
        assert workspace.status("row-0")[0] == "done"
        assert workspace.claimed_by("row-0") is None
        assert "row 2/3 · untouched · step 0 · nlp-getting-started · row-1" in screen_text(app)
        await pilot.press("left_square_bracket", "left_square_bracket")
        assert task.row_id == "row-0"
        assert notified(app, "No more rows this way")


async def test_new_debug_step_from_the_fix_and_switching_steps(make_app, workspace) -> None:
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        task = await open_task(app, pilot)
        await pilot.press("a")
        await wait_until(pilot, lambda: notified(app, "no fixed code"), what="refusal without a fix")
        await pilot.press("2", "enter", "f7")
        await pilot.press(*"# fixed")
        await pilot.press("escape", "a")
        await wait_until(pilot, lambda: notified(app, "its fix was never run"), what="refusal without a run")
        fixed = workspace.step("row-0").fixed_code
        verdict = {"kind": "error", "detail": "ValueError", "error": None, "match": "different"}
        workspace.add_run(
            "row-0",
            0,
            "fix",
            {"verdict": verdict, "output_tail": "ValueError\n", "code_sha256": code_sha256(fixed)},
        )
        await pilot.press("a")
        await wait_until(pilot, lambda: task.k == 1, what="step 1")
        assert len(workspace.steps("row-0")) == 2
        assert workspace.step("row-0", 1).code.startswith("# fixed")
        assert "step 1" in screen_text(app)
        await pilot.press("less_than_sign")
        assert task.k == 0
        assert task.query_one("#fixed_code", TextArea).text.startswith("# fixed")


async def test_q_quits_outside_fields_and_saves(make_app, workspace) -> None:
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await open_task(app, pilot)
        await pilot.press("5", "enter", *"half a thought", "ctrl+c")
        await wait_until(pilot, lambda: not app.is_running, what="ctrl+c quits")
    assert workspace.step("row-0").revised_analysis == "half a thought"
    assert workspace.claimed_by("row-0") is None
