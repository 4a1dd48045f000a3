"""Snapshots of the annotator's loop at 80x24 and 160x48: the trace pane compact and one frame in full, the
output pane after a long traceback, the queue filtered, help, the palette and the reject prompt (fixed theme,
no cursor blink)."""

from __future__ import annotations

import pytest
from test_tui_insert_lines import add_example_trace
from test_tui_snapshots import app_for, settle, snapshot_workspace  # noqa: F401 (a fixture)
from textual.command import CommandInput, CommandList, CommandPalette
from tui_helpers import SMALL, WIDE, open_task, wait_until

from tui.screens.reject import RejectScreen
from workspace.records import RunRecord, Verdict

SIZES = pytest.mark.parametrize("size", [SMALL, WIDE], ids=["80x24", "160x48"])
LONG_TRACEBACK = (
    "loading\nTraceback (most recent call last):\n"
    + "".join(f'  File "/sandbox/work/lib{n}.py", line {n}, in step{n}\n    step{n + 1}(data)\n' for n in range(30))
    + '  File "/sandbox/work/runfile.py", line 4, in <module>\n'
    + "    print(train['target_x'])\nKeyError: 'target_x'\n"
)


async def open_pane(pilot, pane: str):
    """The first row's task view on the pane of key ``pane``, settled for a screenshot."""
    task = await open_task(pilot.app, pilot)
    await pilot.press(pane)
    await settle(pilot)
    return task


def palette_searched(app, query: str) -> bool:
    """The command palette shows its matches for all of ``query``: its search of each keystroke has ended
    (a keystroke cancels the search before it and starts its own) and one match is highlighted."""
    palette = app.screen
    if not isinstance(palette, CommandPalette) or palette.query_one(CommandInput).value != query:
        return False
    group = CommandPalette._GATHER_COMMANDS_GROUP
    if any(worker.group == group and not worker.is_finished for worker in app.workers):
        return False
    matches = palette.query_one(CommandList)
    return bool(matches.option_count) and matches.highlighted is not None


@SIZES
def test_trace_pane_compact(snap_compare, snapshot_workspace, size) -> None:  # noqa: F811
    add_example_trace(snapshot_workspace)

    async def run_before(pilot) -> None:
        task = await open_pane(pilot, "4")
        await wait_until(pilot, lambda: task.trace_pane.index is not None)
        await pilot.press("E", "up")
        await settle(pilot)

    assert snap_compare(app_for(snapshot_workspace), terminal_size=size, run_before=run_before)


@SIZES
def test_trace_frame_in_full(snap_compare, snapshot_workspace, size) -> None:  # noqa: F811
    add_example_trace(snapshot_workspace)

    async def run_before(pilot) -> None:
        task = await open_pane(pilot, "4")
        await wait_until(pilot, lambda: task.trace_pane.index is not None)
        await pilot.press("E", "up", "enter")
        await settle(pilot)

    assert snap_compare(app_for(snapshot_workspace), terminal_size=size, run_before=run_before)


@SIZES
def test_output_pane_after_a_long_traceback(snap_compare, snapshot_workspace, size) -> None:  # noqa: F811
    async def run_before(pilot) -> None:
        task = await open_pane(pilot, "3")
        output = task.output_pane
        output.begin("original", 360)
        output.feed(LONG_TRACEBACK)
        verdict = Verdict("error", "KeyError: 'target_x' at line 4")
        output.end(RunRecord(id=1, step=0, purpose="original", verdict=verdict, duration=2.0))
        await settle(pilot)

    assert snap_compare(app_for(snapshot_workspace), terminal_size=size, run_before=run_before)


@SIZES
def test_queue_with_filters(snap_compare, snapshot_workspace, size) -> None:  # noqa: F811
    async def run_before(pilot) -> None:
        await settle(pilot)
        await pilot.press("s", "c")
        await settle(pilot)

    assert snap_compare(app_for(snapshot_workspace), terminal_size=size, run_before=run_before)


@SIZES
def test_help(snap_compare, snapshot_workspace, size) -> None:  # noqa: F811
    async def run_before(pilot) -> None:
        await open_pane(pilot, "4")
        await pilot.press("f1")
        await settle(pilot)

    assert snap_compare(app_for(snapshot_workspace), terminal_size=size, run_before=run_before)


@SIZES
def test_palette(snap_compare, snapshot_workspace, size) -> None:  # noqa: F811
    async def run_before(pilot) -> None:
        await open_pane(pilot, "2")
        await pilot.press("ctrl+p", *"reject")
        await settle(pilot)
        # the palette searches in the background: on a busy machine its matches come a little later
        await wait_until(pilot, lambda: palette_searched(pilot.app, "reject"), timeout=10, what="the palette's matches")
        # the palette's own input blinks its cursor (the app's cursor_blink=False reaches only our editors)
        pilot.app.screen.query_one(CommandInput).cursor_blink = False
        await pilot.pause()

    assert snap_compare(app_for(snapshot_workspace), terminal_size=size, run_before=run_before)


@SIZES
def test_reject_prompt(snap_compare, snapshot_workspace, size) -> None:  # noqa: F811
    async def run_before(pilot) -> None:
        await open_pane(pilot, "1")
        await pilot.press("x")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, RejectScreen), what="the reject prompt")
        await settle(pilot)

    assert snap_compare(app_for(snapshot_workspace), terminal_size=size, run_before=run_before)
