"""The task view keeps the books: time only on actions and never on a done row, B by hand, A drops a step."""

from __future__ import annotations

from tui_helpers import SMALL, open_task, screen_text, wait_until

from tracer_adapter.verbatim import check_analysis
from tui.activity_clock import ActivityClock
from tui.screens.task import TaskScreen
from workspace.run_rules import code_sha256

FIX = "print('fixed')\n"


def _record(kind: str, code: str, match: str | None = None) -> dict:
    verdict = {"kind": kind, "detail": kind, "error": None, "match": match}
    return {
        "verdict": verdict,
        "output_tail": "ValueError: next\n",
        "run_dir": "/nonexistent",
        "code_sha256": code_sha256(code),
    }


async def test_viewing_a_done_row_adds_no_time_and_acting_on_an_open_row_does(make_app, workspace) -> None:
    """Defect 8."""
    workspace.update_step("row-0", 0, bug_confirmed=True, fixable=False, revised_analysis="needs internet")
    workspace.set_status("row-0", "done", check_quotes=check_analysis)

    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await open_task(app, pilot, row=0)
        await pilot.press("2", "3", "4", "5", "1", "2")
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, TaskScreen), what="back to the queue")
        await open_task(app, pilot, row=1)
        await pilot.press("2", "3", "4", "5", "1")
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, TaskScreen), what="back to the queue")

    assert workspace.step("row-0").time_spent == 0
    assert workspace.step("row-1").time_spent > 0


def test_the_clock_cuts_pauses_at_two_minutes_and_counts_runs_in_full() -> None:
    now = [1000.0]
    clock = ActivityClock(now=lambda: now[0])
    clock.open()
    now[0] += 50
    assert clock.take() == 0  # opening is not acting
    clock.act()
    now[0] += 30
    clock.act()
    now[0] += 600  # a long pause
    assert clock.take() == 30 + 120
    now[0] += 600
    assert clock.take() == 0  # the cut-off is per pause, not per take
    clock.act()
    clock.run_started()
    now[0] += 300
    clock.run_ended()
    assert clock.take() == 300


def test_seconds_that_could_not_be_stored_are_given_again_by_the_next_take() -> None:
    now = [1000.0]
    clock = ActivityClock(now=lambda: now[0])
    clock.open()
    clock.act()
    now[0] += 40
    taken = clock.take()
    clock.give_back(taken)  # the write failed (disk full, locked): nothing is lost
    now[0] += 5
    assert clock.take() == 45


async def test_b_sets_bug_fixed_by_hand_and_the_pane_says_who_set_each_flag(make_app, workspace) -> None:
    workspace.annotator = "alice"
    code = workspace.step("row-1").code
    run_id = workspace.add_run("row-1", 0, "replicate", _record("error", code, "same"))

    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        task = await open_task(app, pilot, row=1)
        task.ws.annotator = "alice"
        await pilot.press("5")
        await wait_until(pilot, lambda: f"bug confirmed by run #{run_id}" in screen_text(app), what="provenance")
        await pilot.press("B")
        await wait_until(pilot, lambda: workspace.step("row-1").bug_fixed, what="B")
        await wait_until(pilot, lambda: "bug fixed by hand (alice)" in screen_text(app), what="by hand")


async def test_a_drops_the_last_step(make_app, workspace) -> None:
    """Issue 15 item 8, in the app."""
    workspace.update_step("row-0", 0, fixed_code=FIX)
    workspace.add_run("row-0", 0, "fix", _record("error", FIX, "different"))
    workspace.new_step("row-0")

    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        task = await open_task(app, pilot, row=0)
        assert task.k == 1
        await pilot.press("A")
        await wait_until(pilot, lambda: task.k == 0, what="back on step 0")
        assert [s.index for s in workspace.steps("row-0")] == [0]
