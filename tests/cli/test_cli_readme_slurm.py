"""The README's Slurm block as a new user meets it: after "Five minutes", on a machine with or without Slurm,
with or without the ``cluster`` extra. Real ``nodefix`` processes, a real ``nodefix demo``."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"
NODEFIX = str(Path(sys.executable).with_name("nodefix"))


def _five_minutes_commands() -> list[list[str]]:
    """The indented commands under "## Five minutes with nodefix", each split as a shell would."""
    section = README.read_text(encoding="utf-8").split("\n## Five minutes with nodefix\n", 1)[1]
    block = re.search(r"^((?: {4}.+\n)+)", section, re.MULTILINE)
    assert block, "README.md: no indented commands under ## Five minutes with nodefix"
    return [shlex.split(line, comments=True) for line in block.group(1).splitlines()]


def _slurm_commands() -> list[list[str]]:
    """The commands of the ```sh block under **A batch on Slurm.**, comment lines left out."""
    section = README.read_text(encoding="utf-8").split("**A batch on Slurm.**", 1)[1]
    block = re.search(r"^```sh\n(.*?)^```$", section, re.DOTALL | re.MULTILINE)
    assert block, "README.md: no ```sh block under **A batch on Slurm.**"
    return [words for line in block.group(1).splitlines() if (words := shlex.split(line, comments=True))]


def _nodefix(words: list[str], home: Path, **kwargs) -> subprocess.CompletedProcess:
    """``words`` (starting "nodefix") as the user's shell runs them: ~ is their home."""
    assert words[0] == "nodefix", words
    argv = [str(home / word[2:]) if word.startswith("~/") else word for word in words[1:]]
    env = {**os.environ, "HOME": str(home), **kwargs.pop("env", {})}
    return subprocess.run([NODEFIX, *argv], capture_output=True, text=True, timeout=180, env=env, **kwargs)


@pytest.mark.timeout(300)
def test_each_slurm_command_works_after_the_five_minutes(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    for words in _five_minutes_commands():
        if words[1] == "replicate":
            continue  # optional there; it only adds runs to the workspace the next line opens anyway
        if words[1] == "open":
            words = ["nodefix", "rows", *words[2:]]  # the workbench's workspace, opened headless
        done = _nodefix(words, home)
        assert done.returncode == 0, (words, done.stderr)
    assert any((home / "nodefix-demo").glob("*.nodefix/nodefix.db"))  # what made the old block's demo fail

    installed_extra = False
    for words in _slurm_commands():
        if words[0] == "pip":  # not run here: the test venv has the extras
            assert words == ["pip", "install", "-e", ".[cluster]"]
            installed_extra = True
            continue
        if words[1] == "replicate" and "--executor" in words:
            assert installed_extra, "the Slurm executor is used before the README installs the cluster extra"
            if shutil.which("sinfo") is not None:
                continue  # a real Slurm batch: tests/cluster runs those
            done = _nodefix(words, home)
            assert done.returncode == 2
            assert done.stderr.strip().splitlines()[-1] == (
                "nodefix: cluster.executor: slurm cannot be used here: "
                "sinfo not found: Slurm is not installed or not on PATH"
            )
            continue
        done = _nodefix(words, home)
        if words[1] == "doctor":
            assert done.returncode in (0, 1), done.stderr  # 1: a part of this machine is broken, not the command
            [slurm] = [line for line in done.stdout.splitlines() if line.split()[1:2] == ["slurm"]]
            assert not slurm.startswith("FAIL"), slurm
            if shutil.which("sinfo") is None:
                assert slurm.startswith("off  slurm")
        else:
            assert done.returncode == 0, (words, done.stderr)


def _doctor_lines(tmp_path: Path, cluster: str = "") -> tuple[int, dict[str, str]]:
    """``nodefix doctor`` where no sinfo is on PATH, run in a folder whose nodefix.toml holds ``cluster``."""
    (tmp_path / "nodefix.toml").write_text(f"[cluster]\n{cluster}\n")
    no_slurm = tmp_path / "bin"
    no_slurm.mkdir()
    done = subprocess.run(
        [NODEFIX, "doctor"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**os.environ, "PATH": str(no_slurm)},
    )
    lines = {line.split()[1]: line for line in done.stdout.splitlines()[:-1]}
    return done.returncode, {**lines, "last": done.stdout.splitlines()[-1]}


def test_doctor_marks_a_missing_slurm_off_while_nothing_uses_it(tmp_path: Path) -> None:
    _, lines = _doctor_lines(tmp_path)
    assert re.fullmatch(
        r"off  slurm +sinfo not found: Slurm is not installed or not on PATH \(not used: cluster.executor = local\)",
        lines["slurm"],
    )
    assert "slurm" not in lines["last"]


def test_doctor_fails_a_missing_slurm_that_the_executor_needs(tmp_path: Path) -> None:
    code, lines = _doctor_lines(tmp_path, 'executor = "slurm"')
    assert code == 1
    assert re.fullmatch(r"FAIL slurm +sinfo not found: Slurm is not installed or not on PATH", lines["slurm"])
    assert lines["last"].startswith("broken: ")
    assert "slurm" in lines["last"].split(": ", 1)[1].split(", ")


NEEDS_EXTRA = (
    "nodefix: the slurm executor (--executor / cluster.executor) needs nodefix's cluster extra, "
    'and submitit is not installed: pip install -e ".[cluster]" in the nodefix checkout'
)


@pytest.mark.parametrize("slurm", ["absent", "answering"])
def test_replicate_on_slurm_without_the_cluster_extra_says_so_in_one_line(make_dataset, tmp_path, slurm) -> None:
    dataset = make_dataset([{}])
    hidden = tmp_path / "without-submitit"  # as after a plain `pip install -e .`: `import submitit` fails
    hidden.mkdir()
    (hidden / "submitit.py").write_text('raise ModuleNotFoundError("No module named \'submitit\'", name="submitit")\n')
    path = os.environ["PATH"]
    if slurm == "answering":  # stand-ins for the Slurm commands, so the run would get as far as submitting
        (tmp_path / "bin").mkdir()
        for name, script in {"sinfo": "echo 'debug* up 1 idle'", "squeue": "exit 0"}.items():
            (tmp_path / "bin" / name).write_text(f"#!/bin/sh\n{script}\n")
            (tmp_path / "bin" / name).chmod(0o755)
        path = f"{tmp_path / 'bin'}{os.pathsep}{path}"
    done = subprocess.run(
        [NODEFIX, "replicate", str(dataset), "--executor", "slurm", "--jobs", "2"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(hidden), "PATH": path},
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [f"nodefix: workspace {dataset.parent / 'dataset.nodefix'}", NEEDS_EXTRA]
    assert "Traceback" not in done.stderr
