"""Result files coming back from nodes are untrusted; the [cluster] settings, the flags and doctor's line."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from runner.bookkeeping import PreparedRun
from runner.executors.slurm import read_untrusted_json, result_from_node, slurm_finding
from runner.spec import RunSpec
from tui.cli import main
from workspace.config import ClusterSettings, RunSettings, load_config

TASK = PreparedRun(
    "row-0", 0, "replicate", RunSpec("rows = {}\nprint(rows['x'])\n", "tiny", RunSettings(), Path("/unused")), "", ""
)
GOOD = {
    "backend": "bubblewrap",
    "command": ["bwrap", "python", "runfile.py"],
    "started_at": 1.0,
    "duration": 0.5,
    "exit_code": 1,
    "signal": None,
    "timed_out": False,
    "submission_written": False,
    "output_tail": "Traceback (most recent call last):\n"
    '  File "runfile.py", line 2, in <module>\n'
    "    print(rows['x'])\n"
    "KeyError: 'x'\n",
    "environment_error": None,
}


def write(path: Path, value: object) -> Path:
    path.write_text(json.dumps(value))
    return path


def test_a_good_result_is_classified_on_the_host_whatever_the_node_says(tmp_path: Path) -> None:
    facts = {**GOOD, "verdict": {"kind": "clean"}}  # a node's own verdict is ignored
    result = result_from_node(read_untrusted_json(write(tmp_path / "r.json", facts), 10_000), TASK, tmp_path)
    assert (result.verdict.kind, result.verdict.error.exc_type, result.verdict.error.lineno) == ("error", "KeyError", 2)
    assert result.run_dir == tmp_path
    assert result.spec_backend == "slurm:bubblewrap"


def test_a_symlinked_result_is_refused(tmp_path: Path) -> None:
    target = write(tmp_path / "elsewhere.json", GOOD)
    (tmp_path / "r.json").symlink_to(target)
    with pytest.raises(ValueError, match="refused: a symlink"):
        read_untrusted_json(tmp_path / "r.json", 10_000)


def test_a_fifo_result_is_refused_without_blocking(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "r.json")
    with pytest.raises(ValueError, match="not a regular file"):
        read_untrusted_json(tmp_path / "r.json", 10_000)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"x" * 2000, "more than the 1000 allowed"),
        (b"{not json", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
    ],
)
def test_a_malformed_result_is_refused(tmp_path: Path, content: bytes, message: str) -> None:
    (tmp_path / "r.json").write_bytes(content)
    with pytest.raises(ValueError, match=message):
        read_untrusted_json(tmp_path / "r.json", 1000)


@pytest.mark.parametrize(
    ("key", "value"),
    [("exit_code", True), ("exit_code", "1"), ("timed_out", 0), ("output_tail", None), ("command", ["ok", 3])],
)
def test_a_result_field_of_the_wrong_type_is_refused(key: str, value: object) -> None:
    with pytest.raises(ValueError, match=repr(key)):
        result_from_node({**GOOD, key: value}, TASK, Path("/nowhere"))


def test_cluster_settings_come_from_the_project_file_and_flags_win(tmp_path: Path) -> None:
    (tmp_path / "nodefix.toml").write_text(
        '[cluster]\nexecutor = "slurm"\npartition = "gpu"\ngres = "gpu:1"\nshared_folder = "shared"\nmax_jobs = 200\n'
    )
    config = load_config(tmp_path / "batch.parquet")
    assert config.cluster == ClusterSettings(
        executor="slurm", partition="gpu", gres="gpu:1", shared_folder=tmp_path / "shared", max_jobs=200
    )
    overridden = config.with_overrides(cluster={"partition": "debug", "gres": None})
    assert (overridden.cluster.partition, overridden.cluster.gres) == ("debug", "gpu:1")


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ('executor = "kubernetes"', "cluster.executor must be one of local, slurm, not 'kubernetes'"),
        ('executor = "slurm"\nmax_jobs = 0', "cluster.max_jobs must be at least 1, not 0"),
        ('executor = "slurm"\nretries = -1', "cluster.retries must be 0 or more, not -1"),
        ("max_jobs = true", "max_jobs must be a number, not True"),
    ],
)
def test_bad_cluster_settings_are_one_line_and_exit_2(make_dataset, tmp_path: Path, capsys, setting, message) -> None:
    dataset = make_dataset([{}])
    (tmp_path / "nodefix.toml").write_text(f"[cluster]\n{setting}\n")
    assert main(["replicate", str(dataset), "--backend", "local"]) == 2
    assert message in capsys.readouterr().err


def test_doctor_says_when_slurm_is_not_installed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no sinfo on it
    unused = slurm_finding(ClusterSettings())
    assert (unused.ok, unused.text) == (True, "sinfo not found: Slurm is not installed or not on PATH")
    assert not slurm_finding(ClusterSettings(executor="slurm")).ok


@pytest.mark.slurm
@pytest.mark.usefixtures("slurm")
def test_doctor_reports_the_reachable_cluster_and_a_bad_shared_folder(tmp_path: Path) -> None:
    finding = slurm_finding(ClusterSettings(executor="slurm", shared_folder=tmp_path))
    assert finding.ok
    assert "reachable, used; partitions: debug (default)" in finding.text
    assert f"shared folder {tmp_path}" in finding.text
    not_a_folder = write(tmp_path / "file", {})
    finding = slurm_finding(ClusterSettings(executor="slurm", shared_folder=not_a_folder))
    assert not finding.ok
    assert f"shared folder {not_a_folder} is not a writable folder" in finding.text
