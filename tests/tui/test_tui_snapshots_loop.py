"""Snapshots of the annotator's loop at 80x24 and 160x48: the trace pane compact and one frame in full, the
output pane after a long traceback, the queue filtered, help and the palette (fixed theme, no cursor blink)."""

from __future__ import annotations

import pytest
from test_tui_insert_lines import add_example_trace
from test_tui_snapshots import app_for, settle, snapshot_workspace  # noqa: F401 (a fixture)
from textual.widgets import OptionList
from tui_helpers import SMALL, WIDE, open_task, wait_until

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
        for _ in range(100):
            results = pilot.app.screen.query(OptionList)
            if results and results.first().option_count and results.first().highlighted is not None:
                break
            await pilot.pause(0.05)
        await pilot.pause(0.3)  # and the last of them

    assert snap_compare(app_for(snapshot_workspace), terminal_size=size, run_before=run_before)
