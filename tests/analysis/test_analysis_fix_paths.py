"""Environment path fixes: proposed from the step's error or verdict, shown as a diff, saved only with --apply."""

from __future__ import annotations

from pathlib import Path

import pytest

from demo.catalogue import ROWS
from runner.path_fixes import propose_path_fix
from tui.cli import main
from workspace.store import open_workspace

INPUT_ROW = next(row for row in ROWS if row.name == "spaceship-input-path")
SUBMISSION_ROW = next(row for row in ROWS if row.name == "spaceship-submission-dir")
MISSING = "FileNotFoundError: [Errno 2] No such file or directory: './input/train.csv'"


def test_the_input_rewrite_is_the_demo_rows_own_smallest_fix() -> None:
    fix = propose_path_fix(INPUT_ROW.code, MISSING, "error")
    assert fix is not None
    assert fix.code == INPUT_ROW.fixed_code(1)
    assert '-train = pd.read_csv("./input/train.csv")' in fix.diff.splitlines()
    assert '+train = pd.read_csv("./data/train.csv")' in fix.diff.splitlines()


def test_the_submission_rewrite_changes_only_the_path_written() -> None:
    fix = propose_path_fix(SUBMISSION_ROW.code, "", "no_submission")
    assert fix is not None
    changed = [line for line in fix.diff.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    assert changed == [
        '-submission.to_csv("./submission/submission.csv", index=False)',
        '+submission.to_csv("./submission.csv", index=False)',
    ]  # the message printed after it is prose, not a path: left as it is


@pytest.mark.parametrize(
    ("code", "rewritten"),
    [
        ('df = pd.read_csv("/kaggle/input/titanic/train.csv")\n', 'df = pd.read_csv("./data/train.csv")\n'),
        ("DATA = '../input/'\n", "DATA = './data/'\n"),
        ("root = Path('./input')\n", "root = Path('./data')\n"),
        ("# see ./input/ for the files\nx = 'input/a.csv'\n", "# see ./input/ for the files\nx = './data/a.csv'\n"),
    ],
)
def test_only_string_literals_are_rewritten(code: str, rewritten: str) -> None:
    fix = propose_path_fix(code, MISSING, "error")
    assert fix is not None
    assert fix.code == rewritten


@pytest.mark.parametrize(
    ("code", "error", "kind"),
    [
        (INPUT_ROW.code, "KeyError: 'Transported'", "error"),  # another error: nothing to do with paths
        ('x = "./data/train.csv"\n', MISSING, "error"),  # no such path in the code
        ('x = "./input/train.csv"\n', "", "clean"),
        ("x = (\n", MISSING, "error"),  # does not tokenize
    ],
)
def test_nothing_is_proposed_when_no_rule_applies(code: str, error: str, kind: str) -> None:
    assert propose_path_fix(code, error, kind) is None


def test_the_command_shows_the_diff_and_saves_only_with_apply(demo, tmp_path: Path, capsys) -> None:
    target = [str(demo.dataset), "--workspace", str(tmp_path / "ws"), "--id", INPUT_ROW.id]
    assert main(["fix-paths", *target]) == 0
    out = capsys.readouterr().out
    assert '+train = pd.read_csv("./data/train.csv")' in out
    assert "not applied" in out
    with open_workspace(demo.dataset, tmp_path / "ws") as ws:
        assert ws.step(INPUT_ROW.id, 0).fixed_code == ""
    written = tmp_path / "fix.py"
    assert main(["fix-paths", *target, "--apply", "--out", str(written)]) == 0
    with open_workspace(demo.dataset, tmp_path / "ws") as ws:
        assert ws.step(INPUT_ROW.id, 0).fixed_code == INPUT_ROW.fixed_code(1)
    assert written.read_text() == INPUT_ROW.fixed_code(1)
    assert main(["run", *target, "--code", str(written), "--backend", "bubblewrap", "--quiet"]) == 0
    with open_workspace(demo.dataset, tmp_path / "ws") as ws:
        assert ws.runs(INPUT_ROW.id, 0)[-1].kind == "clean"


def test_a_no_submission_run_gets_the_submission_rewrite(demo, tmp_path: Path, capsys) -> None:
    target = [str(demo.dataset), "--workspace", str(tmp_path / "ws"), "--id", SUBMISSION_ROW.id]
    assert main(["fix-paths", *target]) == 1  # no run yet: the recorded output does not say
    main(["run", *target, "--backend", "bubblewrap", "--quiet"])
    capsys.readouterr()
    assert main(["fix-paths", *target]) == 0
    assert '+submission.to_csv("./submission.csv", index=False)' in capsys.readouterr().out
