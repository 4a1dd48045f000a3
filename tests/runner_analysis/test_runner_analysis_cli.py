"""``nodefix replicate`` and ``nodefix grade`` as users run them, including Ctrl-C and bad input."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from runner import bookkeeping
from tui.cli import main
from workspace.config import load_config
from workspace.store import open_workspace

pytestmark = pytest.mark.timeout(60)

COMPETITION = "tiny-competition"
FIXED_CODE = "open('submission.csv', 'w').write('id,target\\n1,0\\n')\nprint('saved')\n"
SLOW = "import time\nprint('slow', flush=True)\ntime.sleep(30)\n"


@pytest.fixture
def project(tmp_path: Path, data_root: Path, sandbox_backend: str, grade_settings) -> Path:
    """A folder with nodefix.toml (data root, backend, grade command) beside where datasets go."""
    (tmp_path / "nodefix.toml").write_text(
        f'[run]\ndata_root = "{data_root}"\nbackend = "{sandbox_backend}"\nmemory_limit = "2G"\n'
        f'[grade]\ncommand = {json.dumps(grade_settings.command)}\ncheckout = "{grade_settings.checkout}"\n'
    )
    return tmp_path


def rows(*codes: str) -> list[dict]:
    return [{"code": code, "competition_id": COMPETITION} for code in codes]


def table_rows(out: str) -> dict[str, int]:
    """The label -> count rows of the table ``replicate`` prints."""
    cells = [line.strip("│ ").split("│") for line in out.splitlines() if line.startswith("│")]
    return {label.strip(): int(count) for label, count in cells}


def test_replicate_prints_the_table(make_dataset, project, capsys):
    dataset = make_dataset(rows("print(1)\n", "raise ValueError('x')\n", FIXED_CODE))
    assert main(["replicate", str(dataset), "--jobs", "2", "--time-limit", "5"]) == 0
    out, err = capsys.readouterr()
    assert f"nodefix: workspace {dataset.parent / 'dataset.nodefix'}" in err
    assert "Replication of 3 rows" in out
    assert table_rows(out) == {"no_submission": 1, "error": 1, "clean": 1, "different error from the recorded one": 3}
    assert main(["replicate", str(dataset)]) == 0
    assert "3 rows already replicated: skipped" in capsys.readouterr().err


def test_ctrl_c_cancels_and_says_how_to_resume(make_dataset, project, wait_until, capsys):
    dataset = make_dataset(rows("print('first')\n", SLOW, "print('third')\n"))
    command = [sys.executable, "-m", "tui", "replicate", str(dataset), "--jobs", "1", "--time-limit", "20"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ws = open_workspace(dataset)
    try:
        assert wait_until(lambda: ws.latest_replication("row-0") is not None, seconds=20)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
        assert process.returncode == 130
        assert f"resume with: nodefix replicate {dataset} --jobs 1 --time-limit 20" in " ".join(err.split())
        assert ws.latest_replication("row-1") is None
        assert ws.latest_replication("row-2") is None
        assert table_rows(out) == {"no_submission": 1, "not replicated": 2, "different error from the recorded one": 1}
    finally:
        process.kill()
        ws.close()
    assert main(["replicate", str(dataset), "--time-limit", "5"]) == 0
    assert table_rows(capsys.readouterr().out) == {
        "no_submission": 2,
        "time_limit": 1,
        "different error from the recorded one": 3,
    }


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--jobs", "0"], "--jobs must be at least 1, not 0"),
        (["--time-limit", "0"], "--time-limit must be more than 0 seconds"),
    ],
)
def test_replicate_bad_flags(make_dataset, project, capsys, flags, message):
    assert main(["replicate", str(make_dataset(rows("print(1)\n"))), *flags]) == 2
    assert message in capsys.readouterr().err


def run_fix(dataset: Path, code: str) -> int:
    """Save ``code`` as row-0's fix and run it, as the app's fix-and-verify does; the run's id."""
    ws = open_workspace(dataset)
    try:
        record, _ = bookkeeping.run_and_record(ws, "row-0", 0, "fix", load_config(dataset).run, code)
        return record.id
    finally:
        ws.close()


def test_grade_attaches_the_result_to_the_latest_run_of_the_fixed_code(make_dataset, project, capsys):
    dataset = make_dataset(rows("raise KeyError('x')\n"))
    run_id = run_fix(dataset, FIXED_CODE)
    assert main(["grade", str(dataset), "--id", "row-0"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"run {run_id}: graded: ran cleanly in ")
    assert out.rstrip().endswith("valid solution, test fitness 0.75")
    ws = open_workspace(dataset)
    grade_result = ws.runs("row-0", 0)[-1].grade
    assert grade_result["success"] is True
    assert grade_result["stdout"] == ["saved\n"]
    assert ws.step("row-0", 0).verification.grade == grade_result
    ws.close()


def test_grade_json_and_a_code_file(make_dataset, project, tmp_path, capsys):
    dataset = make_dataset(rows("raise KeyError('x')\n"))
    other = "print('other version')\n"
    run_fix(dataset, other)
    code_file = tmp_path / "other.py"
    code_file.write_text(other)
    assert main(["grade", str(dataset), "--id", "row-0", "--code", str(code_file), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["success"] is True
    assert result["valid_solution"] is False
    assert result["grader"]["returncode"] == 0


def test_grade_that_fails_exits_1_and_is_still_stored(make_dataset, project, capsys):
    dataset = make_dataset(rows("raise KeyError('x')\n"))
    broken = project / "nodefix.toml"
    broken.write_text(broken.read_text().replace("{competition_id}", "unknown-competition"))
    run_fix(dataset, FIXED_CODE)
    assert main(["grade", str(dataset), "--id", "row-0"]) == 1
    assert "grading failed: Task 'unknown-competition' not found" in capsys.readouterr().out
    ws = open_workspace(dataset)
    assert ws.runs("row-0", 0)[-1].grade["error"] == "Task 'unknown-competition' not found"
    ws.close()


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("never run", "this code was never run"),
        ("no fixed code", "no fixed code yet; give --code FILE"),
        ("missing step", "no debug step 3"),
        ("missing code file", "cannot read the code to grade"),
        ("missing row", "no row with id 'row-9'"),
    ],
)
def test_grade_bad_input(make_dataset, project, capsys, case, message):
    dataset = make_dataset(rows("raise KeyError('x')\n"))
    args = ["grade", str(dataset), "--id", "row-0"]
    if case == "never run":
        ws = open_workspace(dataset)
        ws.update_step("row-0", 0, fixed_code=FIXED_CODE)
        ws.close()
    elif case == "missing step":
        args += ["--step", "3"]
    elif case == "missing code file":
        args += ["--code", str(project / "nope.py")]
    elif case == "missing row":
        args[3] = "row-9"
    assert main(args) == 2
    assert message in capsys.readouterr().err


def test_replicate_unknown_backend(make_dataset, project, capsys):
    assert main(["replicate", str(make_dataset(rows("print(1)\n"))), "--backend", "docker"]) == 2
    assert "unknown backend 'docker'" in capsys.readouterr().err
