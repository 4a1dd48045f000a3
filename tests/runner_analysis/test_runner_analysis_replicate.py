"""Batch replication on a small dataset with real runs: verdicts stored, progress, stop and resume."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from runner.replicate import Progress, pending_rows, replicate, replication_table
from workspace.config import Config, RunSettings
from workspace.store import open_workspace

pytestmark = pytest.mark.timeout(60)

COMPETITION = "tiny-competition"
KEYERROR_OUTPUT = [
    "Traceback (most recent call last):\n",
    '  File "runfile.py", line 2, in <module>\n',
    "    print(rows['x'])\n",
    "KeyError: 'x'\n",
    "Execution time: a moment seconds (time limit is an hour).",
]
ROWS = [
    {"code": "import json\nrows = {}\nprint(rows['x'])\n"},  # a different line than recorded
    {"code": "rows = {}\nprint(rows['x'])\n", "_term_out": KEYERROR_OUTPUT},  # the recorded error again
    {"code": "import shutil\nshutil.copy('./data/train.csv', 'submission.csv')\n"},  # clean
    {"code": "print('trained')\n"},  # no submission
    {"code": ""},  # empty code still ends in a verdict
    {"code": "import time\nprint('slow', flush=True)\ntime.sleep(30)\n"},  # reaches the limit
]


@pytest.fixture
def config(data_root: Path, sandbox_backend: str) -> Config:
    return Config(
        run=RunSettings(
            backend=sandbox_backend, data_root=data_root, time_limit=5.0, memory_limit="2G", max_processes=64
        )
    )


def dataset_rows(rows: list[dict]) -> list[dict]:
    return [{"competition_id": COMPETITION, **row} for row in rows]


def test_every_row_gets_a_stored_verdict(make_dataset, config):
    ws = open_workspace(make_dataset(dataset_rows(ROWS)))
    seen: list[Progress] = []
    counts = replicate(ws, config, jobs=3, progress=seen.append)
    assert counts == {"error": 2, "clean": 1, "no_submission": 2, "time_limit": 1}
    verdicts = [ws.latest_replication(row_id).verdict for row_id in ws.dataset.ids]
    assert [v.kind for v in verdicts] == ["error", "error", "clean", "no_submission", "no_submission", "time_limit"]
    assert [v.match for v in verdicts[:2]] == ["different", "same"]
    assert verdicts[1].error.lineno == 2
    assert all(run.purpose == "replicate" and run.step == 0 for row_id in ws.dataset.ids for run in ws.runs(row_id))
    assert seen[0] == Progress(0, 6, 0)
    assert [p.done for p in seen[1:]] == [1, 2, 3, 4, 5, 6]
    assert {p.row_id for p in seen[1:]} == set(ws.dataset.ids)
    kinds, matches = replication_table(ws)
    assert kinds == {"error": 2, "clean": 1, "no_submission": 2, "time_limit": 1}
    assert matches == {"same": 1, "different": 5}
    ws.close()


def test_stop_cancels_the_running_row_and_a_rerun_resumes(make_dataset, config):
    rows = dataset_rows(
        [
            {"code": "print('fast')\n"},
            {"code": "import time\nprint('slow', flush=True)\ntime.sleep(30)\n"},
            {"code": "print('fast again')\n"},
        ]
    )
    ws = open_workspace(make_dataset(rows))
    stop = threading.Event()

    def stop_after_first(progress: Progress) -> None:
        if progress.done == 1:
            stop.set()

    first = replicate(ws, config.with_overrides(run={"time_limit": 20.0}), jobs=2, progress=stop_after_first, stop=stop)
    assert first == {"no_submission": 1}
    assert [ws.latest_replication(row_id) is not None for row_id in ws.dataset.ids] == [True, False, False]
    assert ws.runs("row-1") == []  # the cancelled run stored nothing...
    assert not any((ws.path / "runs" / "row-1").glob("step0/*"))  # ...and left no folder behind
    assert pending_rows(ws) == ["row-1", "row-2"]

    seen: list[Progress] = []
    second = replicate(ws, config, jobs=2, progress=seen.append)
    assert second == {"time_limit": 1, "no_submission": 1}
    assert seen[0] == Progress(0, 2, 1)
    assert len(ws.runs("row-0")) == 1  # the finished row was not run again
    assert pending_rows(ws) == []
    ws.close()


def test_jobs_must_be_positive(make_dataset, config):
    ws = open_workspace(make_dataset(dataset_rows([{}])))
    with pytest.raises(ValueError, match="jobs must be at least 1"):
        replicate(ws, config, jobs=0)
    ws.close()


def test_rows_whose_sandbox_failed_are_run_again(make_dataset, config, data_root):
    rows = [
        {"code": "print('ok')\n", "competition_id": COMPETITION},
        {"code": "print('ok')\n", "competition_id": "not-prepared-yet"},
    ]
    ws = open_workspace(make_dataset(rows))
    assert replicate(ws, config, jobs=2) == {"no_submission": 1, "environment": 1}
    assert "no prepared data for 'not-prepared-yet'" in ws.latest_replication("row-1").verdict.detail
    assert pending_rows(ws) == ["row-1"]
    (data_root / "not-prepared-yet" / "prepared" / "public").mkdir(parents=True)
    assert replicate(ws, config, jobs=2) == {"no_submission": 1}
    assert [len(ws.runs(row_id)) for row_id in ws.dataset.ids] == [1, 2]
    ws.close()
