"""``nodefix run --fix`` runs a step's saved fixed_code as its verifying run, headless, as `r` does in the
task view; and every run prints each flag, naming the ones it set. Real sandboxed runs of the demo's rows,
through the installed ``nodefix`` command."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from demo import DemoPaths
from demo.catalogue import row_by_name
from workspace.run_rules import code_sha256
from workspace.store import open_workspace

pytestmark = pytest.mark.timeout(240)

NODEFIX = str(Path(sys.executable).with_name("nodefix"))


@pytest.fixture
def dataset(demo: DemoPaths, tmp_path: Path) -> Path:
    """A copy of the demo `nodefix demo DIR` writes, with its data and nodefix.toml."""
    folder = tmp_path / "demo"
    shutil.copytree(demo.dataset.parent, folder)
    return folder / "demo.parquet"


def nodefix(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([NODEFIX, *argv], capture_output=True, text=True, timeout=180)


def error_lines(done: subprocess.CompletedProcess) -> list[str]:
    """stderr without the workspace line every dataset command prints first."""
    return [line for line in done.stderr.splitlines() if not line.startswith("nodefix: workspace ")]


def verdict_line(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-2]  # the verdict line, then the duration and log line


def test_fix_paths_hint_runs_the_saved_fix_as_the_steps_verification(dataset: Path, tmp_path: Path) -> None:
    row = row_by_name("spaceship-input-path")
    target = [str(dataset), "--id", row.id]

    refused = nodefix("run", *target, "--fix")
    assert refused.returncode == 2
    assert error_lines(refused) == [
        f"nodefix: row {row.id!r} step 0: no fixed code saved to run with --fix "
        "(save one with fix-paths --apply or the task view's code pane, or run a file with --code FILE)"
    ]
    with open_workspace(dataset) as ws:
        assert ws.runs(row.id) == []  # refused before anything ran

    replication = verdict_line(nodefix("run", *target, "--quiet"))
    assert replication.endswith("· bug_confirmed yes, fixable undecided, bug_fixed no (set by this run: bug_confirmed)")

    applied = nodefix("fix-paths", *target, "--apply")
    assert applied.returncode == 0, applied.stderr
    hint = applied.stdout.strip().splitlines()[-1]
    command = shlex.join(["nodefix", "run", str(dataset), "--id", row.id, "--step", "0", "--fix"])
    assert hint.endswith(f"run it to verify: {command}")

    line = verdict_line(nodefix(*shlex.split(hint.split("run it to verify: ", 1)[1])[1:], "--quiet"))
    assert f"{row.id} step 0 (fix) run 2: clean" in line
    assert "[fix ran clean]" in line
    assert line.endswith("· bug_confirmed yes, fixable yes, bug_fixed yes (set by this run: fixable, bug_fixed)")
    with open_workspace(dataset) as ws:
        step = ws.step(row.id)
        assert step.verification is not None
        assert step.verification.id == 2
        assert step.verification.purpose == "fix"
        assert step.verification.code_sha256 == code_sha256(step.fixed_code)
        assert (step.bug_fixed, step.fixable) == (True, True)
        assert step.flag_sources["bug_fixed"] == step.flag_sources["fixable"] == {"run": 2}
        saved = step.fixed_code

    # exactly as --code FILE with that content: the same kind of run, the fix unchanged, the books the same
    fix_file = tmp_path / "fix.py"
    fix_file.write_text(saved, encoding="utf-8")
    by_file = verdict_line(nodefix("run", *target, "--code", str(fix_file), "--quiet"))
    by_fix = verdict_line(nodefix("run", *target, "--fix", "--quiet"))
    assert by_file.replace("run 3:", "run N:") == by_fix.replace("run 4:", "run N:")
    with open_workspace(dataset) as ws:
        step = ws.step(row.id)
        assert step.fixed_code == saved
        assert step.verification is not None
        assert step.verification.id == 4
        assert [run.code_sha256 for run in ws.runs(row.id, 0)][1:] == [code_sha256(saved)] * 3


def test_fix_and_code_together_are_refused_in_one_line(dataset: Path, tmp_path: Path) -> None:
    row = row_by_name("spaceship-input-path")
    fix_file = tmp_path / "fix.py"
    fix_file.write_text(row.fixed_code(1), encoding="utf-8")
    done = nodefix("run", str(dataset), "--id", row.id, "--fix", "--code", str(fix_file))
    assert done.returncode == 2
    assert error_lines(done) == ["nodefix: give --fix (the step's saved fixed_code) or --code FILE, not both"]


def test_a_fix_run_names_fixable_among_the_flags_it_set_and_not_a_hand_decision(dataset: Path, tmp_path) -> None:
    row = row_by_name("spaceship-input-path")
    target = [str(dataset), "--id", row.id]
    fix_file = tmp_path / "fix.py"
    fix_file.write_text(row.fixed_code(1), encoding="utf-8")
    line = verdict_line(nodefix("run", *target, "--code", str(fix_file), "--quiet"))
    assert line.endswith("· bug_confirmed no, fixable yes, bug_fixed yes (set by this run: fixable, bug_fixed)")

    other = dataset.parent / "other.parquet"  # the same rows, a fresh workspace: fixable decided by hand first
    shutil.copy(dataset, other)
    annotated = nodefix("annotate", str(other), "--id", row.id, "--fixable", "no")
    assert annotated.returncode == 0, annotated.stderr
    line = verdict_line(nodefix("run", str(other), "--id", row.id, "--code", str(fix_file), "--quiet"))
    assert line.endswith("· bug_confirmed no, fixable no, bug_fixed yes (set by this run: bug_fixed)")
