"""Runs record wall time, CPU time and load; a time-limited run that got no CPU is flagged and can be re-run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from runner.resources import starved_note
from tui.cli import main
from workspace.store import open_workspace

pytestmark = pytest.mark.timeout(90)

COMPETITION = "tiny-competition"
SLEEPS = "import time\nprint('waiting', flush=True)\ntime.sleep(60)\n"  # gets no CPU: as starved as it gets
RECORDED_TIMEOUT = [
    "Traceback (most recent call last):\n",
    "TimeoutError: Execution exceeded the time limit of 1 hour\n",
]


@pytest.fixture
def project(tmp_path: Path, data_root: Path, sandbox_backend: str) -> Path:
    (tmp_path / "nodefix.toml").write_text(
        f'[run]\ndata_root = "{data_root}"\nbackend = "{sandbox_backend}"\nmemory_limit = "2G"\n'
    )
    return tmp_path


def test_starved_time_limits_are_flagged_everywhere_and_retried_alone(make_dataset, project, capsys):
    dataset = make_dataset(
        [
            {"code": SLEEPS, "competition_id": COMPETITION, "_term_out": RECORDED_TIMEOUT},
            {"code": "print('done')\n", "competition_id": COMPETITION},
        ]
    )
    assert main(["replicate", str(dataset), "--jobs", "2", "--time-limit", "3"]) == 0
    out = capsys.readouterr().out
    with open_workspace(dataset) as ws:
        slow, quick = ws.dataset.ids
        record = ws.latest_replication(slow)
        resources = record.resources
        assert set(resources) == {"wall_seconds", "cpu_seconds", "load_start", "load_end", "cpus", "threads"}
        assert resources["wall_seconds"] >= 3
        assert resources["cpu_seconds"] < 1
        assert record.match == "time_limit"  # never "same error as recorded"
        note = record.verdict.starved
        assert note.startswith("starved: cpu 0.")
        assert ws.latest_replication(quick).verdict.starved is None
        assert [s.starved for s in ws.summaries()] == [note, None]
    assert f"{slow}: time_limit, {note}" in out
    assert "1 starved rows: re-run them with --retry-starved" in out
    assert "same error as recorded" not in out

    assert main(["rows", str(dataset)]) == 0
    assert f"time_limit ({note})" in capsys.readouterr().out
    assert main(["show", str(dataset), "--id", slow]) == 0
    assert f"time_limit - reached the time limit without raising ({note})" in capsys.readouterr().out

    assert main(["replicate", str(dataset), "--retry-starved", "--time-limit", "3"]) == 0
    with open_workspace(dataset) as ws:
        assert [len(ws.runs(row_id)) for row_id in ws.dataset.ids] == [2, 1]


def test_starved_needs_a_time_limit_and_little_cpu():
    assert (
        starved_note("time_limit", {"wall_seconds": 360.0, "cpu_seconds": 40.0})
        == "starved: cpu 40.0 s of wall 360.0 s"
    )
    assert starved_note("time_limit", {"wall_seconds": 360.0, "cpu_seconds": 300.0}) is None
    assert starved_note("error", {"wall_seconds": 360.0, "cpu_seconds": 1.0}) is None


THREADED_FIT = """
import os
import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import cross_val_score

rng = np.random.default_rng(0)
X = rng.normal(size=(2000, 20))
y = (X[:, 0] + X[:, 1] > 0).astype(int)
model = RandomForestClassifier(n_estimators=50, n_jobs=-1, random_state=0)
print("threads", os.environ["OMP_NUM_THREADS"], "cpus", len(os.sched_getaffinity(0)), flush=True)
print("cv", cross_val_score(model, X, y, cv=3).mean().round(2), flush=True)
open("submission.csv", "w").write("id,target\\n1,0\\n")
"""


@pytest.fixture
def cpu_hog():
    """One CPU-bound process beside the runs, ended at the end of the test."""
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    yield hog
    hog.kill()
    hog.wait()


def test_a_threaded_fit_beside_a_cpu_hog_under_two_jobs_is_right_and_not_starved(make_dataset, project, cpu_hog):
    dataset = make_dataset([{"code": THREADED_FIT, "competition_id": COMPETITION}] * 2)
    assert main(["replicate", str(dataset), "--jobs", "2", "--time-limit", "120"]) == 0
    with open_workspace(dataset) as ws:
        runs = [ws.latest_replication(row_id) for row_id in ws.dataset.ids]
    for run in runs:
        assert run.kind == "clean", run.output_tail
        assert run.verdict.starved is None
        assert run.resources["threads"] == run.resources["cpus"] == max(1, len(os.sched_getaffinity(0)) // 2)
        assert f"threads {run.resources['threads']} cpus {run.resources['cpus']}" in run.output_tail
        assert "physical cores" not in run.output_tail  # loky found the CPU view
