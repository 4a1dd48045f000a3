"""Defects a new user met walking through the README at 80x24, each reproduced by its keys: keys landing in a
text field, reopening on the pane and screen left, T from every pane, j k g G in the trace list, step texts."""

from __future__ import annotations

import threading

from test_tui_insert_lines import add_example_trace
from textual.widgets import TextArea
from tui_helpers import SMALL, notified, open_task, screen_text, wait_until

from tui.screens.entry_picker import EntryPicker
from tui.screens.help import HelpScreen
from tui.screens.queue import QueueScreen
from tui.screens.reject import RejectScreen
from tui.screens.task import TaskScreen
from workspace.run_rules import code_sha256
from workspace.store import open_workspace

LONG_CODE = "".join(f"x{n} = {n}\n" for n in range(1, 40)) + "print(missing)\n" + "y = 1\n" * 20
LONG_OUTPUT = (
    "Traceback (most recent call last):\n"
    '  File "runfile.py", line 40, in <module>\n'
    "    print(missing)\n"
    "NameError: name 'missing' is not defined\n"
)


def typing_in_a_field(app) -> bool:
    return isinstance(app.focused, TextArea)


async def test_l_shows_the_failing_line_and_what_is_typed_next_is_keys_not_code(
    make_app, make_dataset, tmp_path
) -> None:
    ws = open_workspace(make_dataset([{"code": LONG_CODE, "_term_out": LONG_OUTPUT}], name="l.parquet"), tmp_path / "l")
    try:
        app = make_app(ws=ws)
        async with app.run_test(size=SMALL) as pilot:
            task = await open_task(app, pilot)
            await pilot.press("l")
            editor = task.code_pane.editor
            assert task.pane == "code"
            assert not typing_in_a_field(app)
            assert editor.cursor_location == (39, 0)
            # centred once the pane is laid out: the lines around the failing one are in view too
            await wait_until(
                pilot,
                lambda: all(line in screen_text(app) for line in ("x35 = 35", "print(missing)", "y = 1")),
                what="the failing line in the middle of the code pane",
            )
            await pilot.press("3")  # a key, as the user meant it: the output pane, not "3" in the code
            assert task.pane == "output"
            assert ws.step("row-0").fixed_code == ""
            assert ws.status("row-0")[0] == "untouched"
            await pilot.press("2", "enter")  # enter edits, on the failing line
            assert app.focused is editor
            assert editor.cursor_location == (39, 0)
    finally:
        ws.close()


async def test_escape_from_a_code_prompt_goes_back_to_the_pane_it_came_from(make_app, workspace) -> None:
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        task = await open_task(app, pilot)
        await pilot.press("2", "ctrl+f", "escape")
        assert app.focused is task.code_pane  # not the editor: the next keys are keys
        await pilot.press("ctrl+g", "2", "enter")
        assert app.focused is task.code_pane
        assert task.code_pane.editor.cursor_location == (1, 0)
        await pilot.press("3")
        assert task.pane == "output"
        assert workspace.step("row-0").fixed_code == ""


async def test_reopening_a_row_returns_to_its_pane_with_keys_live(make_app, workspace) -> None:
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        task = await open_task(app, pilot)
        await pilot.press("5", "enter", *"half a thought", "f1")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
        await pilot.press("escape", "escape", "escape")  # help, the field, the row
        await wait_until(pilot, lambda: isinstance(app.screen, QueueScreen), what="the queue")
        await pilot.press("enter")
        task = await wait_until(pilot, lambda: isinstance(app.screen, TaskScreen) and app.screen, what="the row")
        await pilot.pause()
        assert task.pane == "annotation"  # the pane it was left on, not pane 1
        assert app.focused is task.annotation_pane  # opening never puts the cursor in a field by itself
        assert task.annotation_pane.editor("revised_analysis").cursor_location == (0, 14)
        await pilot.press("x")  # a key: the reject prompt, not an x in revised_analysis
        await wait_until(pilot, lambda: isinstance(app.screen, RejectScreen), what="the reject prompt")
        await pilot.press("escape")
        assert workspace.step("row-0").revised_analysis == "half a thought"
        await pilot.press("escape", "down", "enter")  # another row opens on its metadata
        task = await wait_until(pilot, lambda: isinstance(app.screen, TaskScreen) and app.screen, what="row 2")
        await pilot.pause()
        assert (task.row_id, task.pane) == ("row-1", "metadata")


async def test_ctrl_n_from_a_field_opens_the_next_row_with_its_pane_holding_the_keys(make_app, workspace) -> None:
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        task = await open_task(app, pilot)
        await pilot.press("5", "enter", *"first", "ctrl+n")
        await wait_until(pilot, lambda: task.row_id == "row-1", what="the next row")
        await pilot.pause()
        assert not typing_in_a_field(app)
        await pilot.press("x")
        await wait_until(pilot, lambda: isinstance(app.screen, RejectScreen), what="the reject prompt")
        await pilot.press("escape")
        assert workspace.step("row-0").revised_analysis == "first"
        assert workspace.step("row-1").revised_analysis == ""
        assert workspace.status("row-1")[0] == "untouched"


async def test_quitting_from_the_queue_restarts_on_the_queue(make_app, workspace) -> None:
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await open_task(app, pilot, row=1)
        await pilot.press("5", "escape", "q")
        await wait_until(pilot, lambda: not app.is_running, what="q quits from the queue")

    app = make_app()  # the next start
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()  # the start's own messages (reopening the last row, when it does) are handled
        assert isinstance(app.screen, QueueScreen)
        assert app.queue.current_id() == "row-1"  # the cursor on the row last open
        await pilot.press("enter")  # opens it, on the pane it was left on, keys live
        task = await wait_until(pilot, lambda: isinstance(app.screen, TaskScreen) and app.screen, what="the row")
        await pilot.pause()
        assert (task.row_id, task.pane) == ("row-1", "annotation")
        assert not typing_in_a_field(app)
        await pilot.press("q")
        await wait_until(pilot, lambda: not app.is_running, what="q quits from the row")
    assert workspace.status("row-1")[0] == "untouched"  # nothing typed into it on the way

    app = make_app()  # quit from the row: the row again
    async with app.run_test(size=SMALL) as pilot:
        task = await wait_until(pilot, lambda: isinstance(app.screen, TaskScreen) and app.screen, what="the row")
        assert (task.row_id, task.pane) == ("row-1", "annotation")


async def test_T_traces_the_fix_from_every_pane_t_does_and_help_lists_it(make_app, workspace) -> None:
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        task = await open_task(app, pilot)
        await pilot.press("3", "T")
        await wait_until(pilot, lambda: notified(app, "This step has no fix yet"), what="the no-fix notice")
        workspace.update_step("row-0", 0, fixed_code="def main():\n    print(1)\nmain()\n")
        for pane in "1235":
            await pilot.press(pane)
            await pilot.press("f1")
            help_screen = await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen) and app.screen)
            assert ("T", "trace: fix", "Trace fix") in help_screen.keys, f"pane {pane}"
            await pilot.press("escape")
            await wait_until(pilot, lambda: app.screen is task, what="the help closed")
            await pilot.press("T")
            picker = await wait_until(pilot, lambda: isinstance(app.screen, EntryPicker) and app.screen, what="picker")
            assert picker.title_text == "Trace the current fix: start where?"
            assert task.pane == "trace"
            await pilot.press("escape")
            await wait_until(pilot, lambda: app.screen is task, what="the picker closed")


async def test_the_trace_list_moves_with_j_k_g_G_and_g_does_not_grade(make_app, workspace) -> None:
    lines = add_example_trace(workspace)
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        task = await open_task(app, pilot)
        await pilot.press("4")
        browser = task.trace_pane.browser
        await wait_until(pilot, lambda: task.trace_pane.index is not None, what="the trace")
        await wait_until(pilot, lambda: app.focused is browser, what="the browser focused")
        await pilot.press("j", "j", "j", "k")
        assert browser.cursor_line == 2
        await pilot.press("G")
        assert browser.cursor_line == len(lines) - 1
        await pilot.press("g")
        assert browser.cursor_line == 0
        assert not notified(app, "Run the fix first")  # g is the list's first line here, not grade
        bindings = app.screen.active_bindings
        assert (bindings["k"].binding.id, bindings["ctrl+k"].binding.id) == ("trace.up", "run.cancel")
        task.trace_pane.jobs["tracing"] = threading.Event()  # while a trace is being made, ctrl+k cancels it
        assert app.screen.active_bindings["ctrl+k"].binding.id == "trace.cancel"
        del task.trace_pane.jobs["tracing"]
        await pilot.press("1", "g")  # outside the trace list g still grades
        await wait_until(pilot, lambda: notified(app, "Run the fix first"), what="grade's refusal")


async def test_steps_read_as_step_k_of_their_range_and_the_picker_title_reads_whole(make_app, workspace) -> None:
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        task = await open_task(app, pilot)
        await pilot.press("5")
        await wait_until(pilot, lambda: "debug step 0 (of 0..0) ·" in screen_text(app), what="one step")
        fixed = "def main():\n    raise ValueError(1)\nmain()\n"
        workspace.update_step("row-0", 0, fixed_code=fixed)
        verdict = {"kind": "error", "detail": "ValueError", "error": None, "match": "different"}
        record = {"verdict": verdict, "output_tail": "ValueError\n", "code_sha256": code_sha256(fixed)}
        workspace.add_run("row-0", 0, "fix", record)
        await pilot.press("a")
        await wait_until(pilot, lambda: task.k == 1, what="step 1")
        await wait_until(pilot, lambda: "debug step 1 (of 0..1) ·" in screen_text(app), what="two steps")
        await pilot.press("greater_than_sign")
        assert notified(app, "Step 1 (of 0..1): no step that way")
        await pilot.press("t")
        await wait_until(pilot, lambda: isinstance(app.screen, EntryPicker), what="the entry picker")
        assert "Trace the buggy code: start where? (enter picks, esc cancels)" in screen_text(app)
