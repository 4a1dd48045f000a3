"""replicate on a real one-node Slurm cluster: the verdicts of a local run, Ctrl-C, resume, a job lost on the node."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from conftest import COMPETITION, nodefix_jobs

from runner.executors.slurm import SlurmExecutor
from runner.replicate import Progress, replicate
from workspace.config import ClusterSettings, Config, RunSettings
from workspace.store import open_workspace

# one cluster for the whole suite: its tests run one after another on one xdist worker
pytestmark = [
    pytest.mark.slurm,
    pytest.mark.timeout(240),
    pytest.mark.usefixtures("slurm"),
    pytest.mark.xdist_group("slurm"),
]

KEYERROR_OUTPUT = [
    "Traceback (most recent call last):\n",
    '  File "runfile.py", line 2, in <module>\n',
    "    print(rows['x'])\n",
    "KeyError: 'x'\n",
]
ROWS = [
    {"code": "import json\nrows = {}\nprint(rows['x'])\n"},  # a different line than recorded
    {"code": "rows = {}\nprint(rows['x'])\n", "_term_out": KEYERROR_OUTPUT},  # the recorded error again
    {"code": "import shutil\nshutil.copy('./data/train.csv', 'submission.csv')\n"},  # clean
    {"code": "print('trained')\n"},  # no submission
    {"code": "import os\nos.kill(os.getpid(), 9)\n"},  # killed
]
SLEEPER = {"code": "import time\nprint('training', flush=True)\ntime.sleep(120)\n"}


def config(data_root: Path, time_limit: float = 10.0) -> Config:
    return Config(run=RunSettings(data_root=data_root, time_limit=time_limit, memory_limit="2G", max_processes=64))


def with_competition(rows: list[dict]) -> list[dict]:
    return [{"competition_id": COMPETITION, **row} for row in rows]


def facts(ws) -> list[tuple]:
    found = []
    for row_id in ws.dataset.ids:
        verdict = ws.latest_replication(row_id).verdict
        found.append((row_id, verdict.kind, verdict.match, verdict.error.lineno if verdict.error else None))
    return found


def test_slurm_verdicts_equal_a_local_replicate(make_dataset, data_root: Path, tmp_path: Path) -> None:
    dataset = make_dataset(with_competition(ROWS))
    settings = config(data_root)
    with open_workspace(dataset, tmp_path / "local.nodefix") as local:
        replicate(local, settings, jobs=2)
        expected = facts(local)
    notices: list[str] = []
    seen: list[Progress] = []
    with open_workspace(dataset, tmp_path / "slurm.nodefix") as ws:
        executor = SlurmExecutor(ClusterSettings(executor="slurm"), 2, tmp_path / "shared", notices.append)
        counts = replicate(ws, settings, 2, seen.append, executor=executor)
        assert facts(ws) == expected
        run = ws.latest_replication(ws.dataset.ids[2])
        assert run.spec_backend.startswith("slurm:")
        assert Path(run.run_dir).is_relative_to(tmp_path / "shared" / "runs")
        assert (Path(run.run_dir) / "scratch" / "submission.csv").is_file()
    assert counts == {"error": 2, "clean": 1, "no_submission": 1, "killed": 1}
    assert [p.done for p in seen] == [0, 1, 2, 3, 4, 5]
    assert notices == []
    assert nodefix_jobs() == []


def test_ctrl_c_cancels_the_jobs_and_a_rerun_resumes(make_dataset, data_root: Path, tmp_path: Path, wait_until) -> None:
    dataset = make_dataset(with_competition([ROWS[3], ROWS[2], SLEEPER, SLEEPER, SLEEPER]))
    workspace, shared = tmp_path / "ws.nodefix", tmp_path / "shared"
    (tmp_path / "nodefix.toml").write_text(f'[run]\ndata_root = "{data_root}"\nmemory_limit = "2G"\n')
    argv = [sys.executable, "-m", "tui", "replicate", str(dataset), "--workspace", str(workspace)]
    argv += ["--executor", "slurm", "--jobs", "2", "--shared-folder", str(shared), "--time-limit", "60"]
    env = {**os.environ, "COLUMNS": "200"}
    batch = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        # both quick rows stored, two sleepers running on the node
        stored_two = lambda: batch.poll() is not None or len(list((shared / "results").glob("*/*.json"))) == 2  # noqa: E731
        assert wait_until(stored_two, 90)
        assert batch.poll() is None, batch.communicate()
        assert wait_until(lambda: sum(" RUNNING" in job for job in nodefix_jobs()) == 2, 60)
        batch.send_signal(signal.SIGINT)
        out, err = batch.communicate(timeout=90)
    finally:
        if batch.poll() is None:
            batch.kill()
    assert batch.returncode == 130, err
    assert nodefix_jobs() == []  # nothing left queued or running
    assert "resume with: " in err
    resume = err.split("resume with: ")[1].split()
    assert resume[resume.index("--executor") + 1] == "slurm"
    with open_workspace(workspace) as ws:
        stored = {row_id: ws.latest_replication(row_id) for row_id in ws.dataset.ids}
    assert [run.kind if run else None for run in stored.values()] == [
        "no_submission",
        "clean",
        None,
        None,
        None,
    ]

    # the rerun skips the two stored rows and runs the sleepers, this time to a short limit
    with open_workspace(workspace) as ws:
        seen: list[Progress] = []
        executor = SlurmExecutor(ClusterSettings(executor="slurm"), 2, shared)
        replicate(ws, config(data_root, time_limit=2.0), 2, seen.append, executor=executor)
        assert seen[0] == Progress(0, 3, 2)
        assert [len(ws.runs(row_id)) for row_id in ws.dataset.ids] == [1, 1, 1, 1, 1]
        assert [ws.latest_replication(row_id).kind for row_id in ws.dataset.ids[2:]] == ["time_limit"] * 3
    assert nodefix_jobs() == []


def test_a_job_scancelled_on_the_node_is_reported_and_resubmitted(
    make_dataset, data_root: Path, tmp_path: Path, wait_until
) -> None:
    # long enough that the scancel lands while it runs, even on a loaded machine
    slow_clean = "import shutil, time\ntime.sleep(8)\nshutil.copy('./data/train.csv', 'submission.csv')\n"
    dataset = make_dataset(with_competition([{"code": slow_clean}]))
    notices: list[str] = []
    executor = SlurmExecutor(ClusterSettings(executor="slurm"), 1, tmp_path / "shared", notices.append)
    outcome: dict = {}

    def batch() -> None:
        with open_workspace(dataset, tmp_path / "ws.nodefix") as ws:
            outcome["counts"] = replicate(ws, config(data_root, time_limit=60.0), 1, executor=executor)

    worker = threading.Thread(target=batch)
    worker.start()
    try:
        assert wait_until(lambda: any(" RUNNING" in job for job in nodefix_jobs()), 60)
        first = next(job.split()[0] for job in nodefix_jobs() if " RUNNING" in job)
        subprocess.run(["scancel", first], check=True, timeout=30)
    finally:
        worker.join(120)
    assert not worker.is_alive()
    assert outcome["counts"] == {"clean": 1}
    assert len(notices) == 1
    assert f"job {first} ended without a result" in notices[0]
    assert notices[0].endswith("; resubmitted")
    with open_workspace(tmp_path / "ws.nodefix") as ws:
        assert [run.kind for run in ws.runs(ws.dataset.ids[0])] == ["clean"]
    assert nodefix_jobs() == []


def test_a_partition_slurm_refuses_is_one_line_and_exit_2(make_dataset, data_root: Path, tmp_path: Path, capsys):
    from tui.cli import main

    dataset = make_dataset(with_competition([ROWS[3]]))
    (tmp_path / "nodefix.toml").write_text(f'[run]\ndata_root = "{data_root}"\n[cluster]\nexecutor = "slurm"\n')
    assert main(["replicate", str(dataset), "--partition", "no-such-partition"]) == 2
    err = capsys.readouterr().err
    assert "sbatch refused the batch: " in err
    assert "invalid partition" in err.lower()
    with open_workspace(dataset) as ws:
        assert ws.latest_replication(ws.dataset.ids[0]) is None
    assert nodefix_jobs() == []
