"""Runs from the task view: live output, the verdict and the match against the recorded error, the run
history, a flood of output that must not freeze the keys, and cancelling."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest
from textual.widgets import Log
from tui_helpers import SMALL, notified, open_task, screen_text, wait_until

from workspace.config import Config, GradeSettings, RunSettings
from workspace.store import open_workspace

COMPETITION = "spaceship-titanic"
BUGGY = "import pandas as pd\nprint('loading')\ntrain = pd.read_csv('./data/train.csv')\nprint(train['target_x'])\n"
RECORDED = (
    "loading\nTraceback (most recent call last):\n"
    '  File "runfile.py", line 4, in <module>\n'
    "    print(train['target_x'])\n"
    "KeyError: 'target_x'\n"
)
FIXED = (
    "import pandas as pd\nprint('loading')\ntrain = pd.read_csv('./data/train.csv')\n"
    "train[['id', 'target']].to_csv('submission.csv', index=False)\n"
)
FLOOD = "import sys\nfor i in range(10**9):\n    sys.stdout.write(f'line {i} ' + 'x' * 60 + '\\n')\n"


@pytest.fixture
def run_config(tmp_path: Path) -> Config:
    public = tmp_path / "data" / COMPETITION / "prepared" / "public"
    public.mkdir(parents=True)
    (public / "train.csv").write_text("id,feature,target\n1,0.5,1\n2,0.1,0\n")
    (public / "test.csv").write_text("id,feature\n3,0.7\n")
    (public / "sample_submission.csv").write_text("id,target\n3,0\n")
    return Config(run=RunSettings(data_root=tmp_path / "data", time_limit=20.0, memory_limit="4G", max_processes=64))


@pytest.fixture
def run_workspace(make_dataset, tmp_path: Path):
    dataset = make_dataset([{"code": BUGGY, "_term_out": [RECORDED]}, {"code": FLOOD}], name="runs.parquet")
    ws = open_workspace(dataset, tmp_path / "runs-ws")
    yield ws
    ws.close()


async def test_run_original_then_the_fix_then_grade(make_app, run_workspace, run_config, tmp_path: Path) -> None:
    app = make_app(ws=run_workspace, cfg=run_config)
    async with app.run_test(size=SMALL) as pilot:
        task = await open_task(app, pilot)
        await pilot.press("o")
        assert task.pane == "output"
        await wait_until(pilot, lambda: len(run_workspace.runs("row-0", 0)) == 1, timeout=20, what="run stored")
        await wait_until(pilot, lambda: "same error as recorded" in screen_text(app), what="verdict banner")
        run = run_workspace.runs("row-0", 0)[0]
        assert run.purpose == "original"
        assert run.kind == "error"
        assert run.match == "same"
        assert "loading" in "\n".join(task.query_one(Log).lines)
        assert "ERROR" in screen_text(app)
        assert "KeyError" in screen_text(app)

        await pilot.press("r")
        await wait_until(pilot, lambda: notified(app, "no fix yet"), what="no fix refusal")
        app.copy_to_clipboard(FIXED)
        await pilot.press("2", "enter", "f7", "ctrl+v", "escape", "r")
        await wait_until(pilot, lambda: len(run_workspace.runs("row-0", 0)) == 2, timeout=20, what="fix run")
        fix = run_workspace.runs("row-0", 0)[1]
        assert fix.purpose == "fix"
        assert fix.kind == "clean"
        assert run_workspace.step("row-0").verification.id == fix.id
        await wait_until(pilot, lambda: "CLEAN" in screen_text(app), what="clean banner")
        assert "original  error" in screen_text(app)
        assert "fix       clean" in screen_text(app)

        await pilot.press("g")  # no grade.checkout yet: the worker fails and says so
        await wait_until(pilot, lambda: notified(app, "setting grade.checkout is not set"), what="grade error")
        grader = tmp_path / "grade.py"
        grader.write_text(
            "import json, sys\n"
            "open(sys.argv[1] + '/results.jsonl', 'w').write(json.dumps("
            "{'success': True, 'valid_solution': True, 'test_fitness': 0.5}))\n"
        )
        run_config.grade = GradeSettings(command=f"{sys.executable} {grader} {{out}}", checkout=tmp_path)
        await pilot.press("g")
        await wait_until(pilot, lambda: run_workspace.runs("row-0", 0)[1].grade, timeout=10, what="grade")
        assert run_workspace.runs("row-0", 0)[1].grade["test_fitness"] == 0.5
        assert run_workspace.step("row-0").verification.grade["success"] is True
        await wait_until(pilot, lambda: "clean" in screen_text(app) and "graded" in screen_text(app))


async def test_keys_stay_live_during_an_output_flood_and_k_or_leaving_cancels(
    make_app, run_workspace, run_config
) -> None:
    app = make_app(ws=run_workspace, cfg=run_config)
    async with app.run_test(size=SMALL) as pilot:
        task = await open_task(app, pilot, row=1)
        # Keys go in as the terminal would send them: Pilot's own waits sit out a busy process.
        app.simulate_key("o")
        log = task.query_one(Log)
        await wait_until(pilot, lambda: log.line_count > 1000, timeout=10, what="flood reaching the log")
        slowest = 0.0
        for key, pane in (("1", "metadata"), ("2", "code"), ("5", "annotation"), ("3", "output")):
            started = time.monotonic()
            app.simulate_key(key)
            await wait_until(
                pilot,
                lambda key=key, pane=pane: task.pane == pane and f"{key} {pane}" in screen_text(app),
                timeout=5,
                what=f"pane {pane} during the flood",
            )
            slowest = max(slowest, time.monotonic() - started)
        assert slowest < 0.5, f"slowest key took {slowest:.2f} s during the flood"
        app.simulate_key("k")
        await wait_until(pilot, lambda: run_workspace.runs("row-1", 0), timeout=15, what="cancelled run stored")
        assert run_workspace.runs("row-1", 0)[0].kind == "cancelled"
        assert log.line_count <= 5000

        app.simulate_key("o")  # again, then leave the row while it runs: leaving cancels it
        await wait_until(pilot, lambda: log.line_count > 1000, timeout=10, what="second flood")
        app.simulate_key("escape")
        await wait_until(
            pilot, lambda: len(run_workspace.runs("row-1", 0)) == 2, timeout=15, what="run cancelled by leaving"
        )
        assert run_workspace.runs("row-1", 0)[1].kind == "cancelled"
        assert app.screen is app.queue
        assert run_workspace.claimed_by("row-1") is None


async def test_q_during_a_run_asks_again_then_cancels_and_quits(make_app, run_workspace, run_config) -> None:
    app = make_app(ws=run_workspace, cfg=run_config)
    async with app.run_test(size=SMALL) as pilot:
        task = await open_task(app, pilot, row=1)
        app.simulate_key("o")
        await wait_until(pilot, lambda: task.output_pane.running, timeout=10, what="the run going")
        app.simulate_key("q")
        await wait_until(pilot, lambda: notified(app, "A run is going: q again within 5 s cancels it and quits"))
        assert app.is_running
        assert task.output_pane.running
        app.simulate_key("q")
        await wait_until(pilot, lambda: not app.is_running, timeout=10, what="the app to quit")
    await wait_until(pilot, lambda: run_workspace.runs("row-1", 0), timeout=15, what="the cancelled run stored")
    assert run_workspace.runs("row-1", 0)[0].kind == "cancelled"
