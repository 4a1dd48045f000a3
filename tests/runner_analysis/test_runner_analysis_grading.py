"""The grade command against a stand-in of the client's checkout, and parsing of its result files."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import psutil
import pytest

from runner.grading import describe_grade, grade, grade_command, parse_grade_result
from workspace.config import GradeSettings
from workspace.errors import InputError

pytestmark = pytest.mark.timeout(30)

GOOD_CODE = "print('training')\nopen('submission.csv', 'w').write('id,target\\n1,0\\n')\n"


@pytest.fixture
def code_file(tmp_path: Path) -> Path:
    path = tmp_path / "fixed code.py"
    path.write_text(GOOD_CODE)
    return path


def test_a_successful_grading_in_the_clients_shape(grade_settings, code_file, tmp_path):
    out = tmp_path / "grade out"
    result = grade(code_file, "spaceship-titanic", grade_settings, out)
    assert result["success"] is True
    assert result["valid_solution"] is True
    assert result["exit_code"] == 0
    assert result["timed_out"] is False
    assert result["test_fitness"] == 0.75
    assert result["validation_fitness"] is None
    assert result["stdout"] == ["training\n"]
    assert result["grading_report"]["competition_id"] == "spaceship-titanic"
    assert result["grader"]["returncode"] == 0
    assert "Full results saved" in Path(result["grader"]["log_path"]).read_text()
    assert describe_grade(result).startswith("graded: ran cleanly in ")
    assert "valid solution, test fitness 0.75" in describe_grade(result)


def test_a_failing_script_is_graded_as_failed(grade_settings, tmp_path):
    code = tmp_path / "bad.py"
    code.write_text("raise KeyError('target')\n")
    result = grade(code, "spaceship-titanic", grade_settings, tmp_path / "out")
    assert result["success"] is False
    assert result["exit_code"] == 1
    assert result["valid_solution"] is False
    assert "KeyError" in "".join(result["error_output"])
    assert "grading_report" not in result
    assert (
        describe_grade(result)
        == f"graded: run failed (exit code 1) in {result['exec_time']:.1f} s, not a valid solution"
    )


def test_the_clients_error_form(grade_settings, code_file, tmp_path):
    result = grade(code_file, "unknown-competition", grade_settings, tmp_path / "out")
    assert result["success"] is False
    assert result["error"] == "Task 'unknown-competition' not found"
    assert describe_grade(result) == "grading failed: Task 'unknown-competition' not found"


def test_a_command_that_writes_nothing(grade_settings, code_file, tmp_path):
    out = tmp_path / "out"
    result = grade(code_file, "silent", grade_settings, out)
    assert result["success"] is False
    assert str(out / "results.jsonl") in result["error"]
    assert "wrote nothing" in result["error"]
    assert "exited with code 2" in result["error"]


def test_a_garbled_results_file(grade_settings, code_file, tmp_path):
    out = tmp_path / "out"
    result = grade(code_file, "garbled", grade_settings, out)
    assert result["success"] is False
    assert result["error"].startswith(f"{out / 'results.jsonl'}: not JSON")


def test_the_time_limit_ends_the_whole_command(grade_settings, code_file, tmp_path, wait_until):
    out = tmp_path / "out"
    result = grade(code_file, "slow", grade_settings, out, timeout=1.0)
    assert result["success"] is False
    assert "time limit" in result["error"]
    pid = int((out / "slow.pid").read_text())
    assert wait_until(
        lambda: not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE, seconds=5
    )


def test_cancel_ends_the_command(grade_settings, code_file, tmp_path, wait_until):
    cancel = threading.Event()
    out = tmp_path / "out"
    threading.Thread(
        target=lambda: wait_until(lambda: (out / "slow.pid").exists()) and cancel.set(), daemon=True
    ).start()
    result = grade(code_file, "slow", grade_settings, out, cancel=cancel)
    assert result["error"].startswith("the grade command was cancelled")


def test_placeholders_fill_whole_arguments(tmp_path):
    settings = GradeSettings(command="run {code} '{competition_id}' {out}/results.jsonl", checkout=tmp_path)
    command = grade_command(settings, Path("/a b/code.py;x"), "comp-1", Path("/out $(dir)"))
    assert command == ["run", "/a b/code.py;x", "comp-1", "/out $(dir)/results.jsonl"]


def test_a_quoted_placeholder_cannot_run_a_hostile_competition_id(tmp_path, code_file):
    """The shell-era hole: '{competition_id}' in the template with a quote in the id broke out of the quotes."""
    planted = tmp_path / "pwned"
    hostile = f"x'; touch {planted}; echo '"
    settings = GradeSettings(command="true '{competition_id}'", checkout=tmp_path)
    with pytest.raises(InputError, match="is not a competition's name"):
        grade(code_file, hostile, settings, tmp_path / "out")
    # even a value that passes as a name can only ever be one argument of the program
    out = tmp_path / "out"
    echo = GradeSettings(command="sh -c 'printf %s \"$0\" > \"$1\"/seen' '{competition_id}' {out}", checkout=tmp_path)
    grade(code_file, "a-b.c", echo, out)
    assert (out / "seen").read_text() == "a-b.c"
    assert not planted.exists()


def test_bad_settings_are_input_errors(tmp_path, code_file):
    with pytest.raises(InputError, match=r"unknown placeholder \{outdir\}"):
        grade(code_file, "c", GradeSettings(command="x {outdir}", checkout=tmp_path), tmp_path / "o")
    with pytest.raises(InputError, match="grade.checkout is not set"):
        grade(code_file, "c", GradeSettings(), tmp_path / "o")
    with pytest.raises(InputError, match="is not a folder"):
        grade(code_file, "c", GradeSettings(checkout=tmp_path / "missing"), tmp_path / "o")
    with pytest.raises(InputError, match="grade.command"):
        grade(code_file, "c", GradeSettings(command="x {code", checkout=tmp_path), tmp_path / "o")


# Result files in the client's shape, as grade_code.py writes them (json.dump with indent=2).
CLIENT_SUCCESS = {
    "success": True,
    "exit_code": 0,
    "timed_out": False,
    "exec_time": 41.2,
    "valid_solution": True,
    "validation_fitness": 0.801,
    "test_fitness": 0.7952,
    "error_output": [],
    "stdout": ["Epoch 1\n", "done\n"],
    "grading_report": {
        "competition_id": "spaceship-titanic",
        "score": 0.7952,
        "gold_threshold": 0.8247,
        "any_medal": False,
        "valid_submission": True,
    },
}


def test_parse_a_real_success_file(tmp_path):
    path = tmp_path / "results.jsonl"
    path.write_text(json.dumps(CLIENT_SUCCESS, indent=2))
    assert parse_grade_result(path) == CLIENT_SUCCESS


def test_parse_the_error_form(tmp_path):
    path = tmp_path / "results.jsonl"
    path.write_text(json.dumps({"error": "Kernel did not become ready in time.", "success": False}, indent=2))
    assert parse_grade_result(path) == {"error": "Kernel did not become ready in time.", "success": False}


def test_parse_one_object_per_line_takes_the_last(tmp_path):
    path = tmp_path / "results.jsonl"
    path.write_text(json.dumps({"error": "first try", "success": False}) + "\n" + json.dumps(CLIENT_SUCCESS) + "\n")
    assert parse_grade_result(path) == CLIENT_SUCCESS


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "no results file"),
        ("", "the results file is empty"),
        ("  \n", "the results file is empty"),
        ('{"success": tru', "not JSON (line 1 column 13"),
        ("[1, 2]", "not a grade result"),
        ('{"score": 1}', "not a grade result"),
    ],
)
def test_parse_problems_name_the_file(tmp_path, content, problem):
    path = tmp_path / "results.jsonl"
    if content is not None:
        path.write_text(content)
    result = parse_grade_result(path)
    assert result["success"] is False
    assert result["error"].startswith(str(path))
    assert problem in result["error"]
