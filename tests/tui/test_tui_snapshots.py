"""Snapshots of the queue and the task view at 80x24 and 160x48 (fixed theme, no cursor blink)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from tui_helpers import SMALL, WIDE, open_task

from tui.app import NodefixApp
from workspace.config import Config
from workspace.store import open_workspace

ROWS = [
    {"analysis": "The script reads ./input instead of ./data."},
    {"competition_id": "nlp-getting-started", "plan": "TF-IDF and a logistic regression."},
    {"competition_id": "leaf-classification"},
]


@pytest.fixture
def snapshot_workspace(request, make_dataset):
    # A fixed folder: the code pane shows the fix's file path, which must not vary between runs.
    folder = Path("/tmp/nodefix-tui-snapshots") / request.node.name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    dataset = folder / "dataset.parquet"
    shutil.copy(make_dataset(ROWS), dataset)
    ws = open_workspace(dataset, folder / "ws")
    ws.set_status("row-2", "rejected", reason="no_code")
    yield ws
    ws.close()
    shutil.rmtree(folder, ignore_errors=True)


def app_for(ws) -> NodefixApp:
    return NodefixApp(ws, Config(), theme="dark", cursor_blink=False)


async def settle(pilot) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


@pytest.mark.parametrize("size", [SMALL, WIDE], ids=["80x24", "160x48"])
def test_queue(snap_compare, snapshot_workspace, size) -> None:
    assert snap_compare(app_for(snapshot_workspace), terminal_size=size, run_before=settle)


@pytest.mark.parametrize("size", [SMALL, WIDE], ids=["80x24", "160x48"])
def test_task_view(snap_compare, snapshot_workspace, size) -> None:
    async def open_first_row(pilot) -> None:
        await open_task(pilot.app, pilot)
        await pilot.press("2")
        await settle(pilot)

    assert snap_compare(app_for(snapshot_workspace), terminal_size=size, run_before=open_first_row)
