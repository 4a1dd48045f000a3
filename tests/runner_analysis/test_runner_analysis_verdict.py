"""Verdicts from real process results, and matching a run's error against the recorded one."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys

import pytest

from runner.tracebacks import parse_error
from runner.verdict import TIME_LIMIT_ERROR, classify, compare

pytestmark = pytest.mark.timeout(30)

RECORDED_KEYERROR = (
    'Traceback (most recent call last):\n  File "runfile.py", line 2, in <module>\n'
    "    print(rows['x'])\nKeyError: 'x'\nExecution time: a moment seconds (time limit is an hour)."
)


def verdict_of(run, **extra):
    """classify() fed with what a real run gave, as execute() feeds it."""
    code = run.returncode
    return classify(
        exit_code=code if code >= 0 else None,
        signal=-code if code < 0 else None,
        timed_out=extra.pop("timed_out", False),
        cancelled=extra.pop("cancelled", False),
        submission_written=(run.folder / "submission.csv").is_file(),
        output=run.output,
        code=run.code,
        **extra,
    )


def test_a_traceback_is_an_error_with_the_failing_line(run_script):
    verdict = verdict_of(run_script("rows = {}\nprint(rows['x'])\n"))
    assert verdict.kind == "error"
    assert verdict.detail == "KeyError: 'x' at line 2"
    assert verdict.error.line_text == "print(rows['x'])"
    assert verdict.match is None  # no recorded output given


def test_exit_zero_with_a_submission_is_clean(run_script):
    verdict = verdict_of(run_script("open('submission.csv', 'w').write('id,target\\n')\n"))
    assert verdict.kind == "clean"
    assert verdict.error is None


def test_exit_zero_without_a_submission_is_no_submission(run_script):
    verdict = verdict_of(
        run_script(
            "import os\nos.makedirs('submission', exist_ok=True)\nopen('submission/submission.csv', 'w').write('x')\n"
        )
    )
    assert verdict.kind == "no_submission"
    assert "submission.csv" in verdict.detail


def test_a_signal_is_killed(run_script):
    run = run_script("import os, signal\nprint('about to die', flush=True)\nos.kill(os.getpid(), signal.SIGKILL)\n")
    assert run.returncode == -signal.SIGKILL
    verdict = verdict_of(run)
    assert verdict.kind == "killed"
    assert "SIGKILL" in verdict.detail
    assert "memory" in verdict.detail


def test_a_shell_style_exit_code_137_without_traceback_is_killed():
    verdict = classify(
        exit_code=137,
        signal=None,
        timed_out=False,
        cancelled=False,
        submission_written=False,
        output="epoch 1\n",
        code="",
    )
    assert (verdict.kind, verdict.detail) == ("killed", "killed by SIGKILL (often out of memory)")


def test_memory_error_is_an_error_not_killed(run_script):
    verdict = verdict_of(run_script("buffer = bytearray(1 << 62)\n"))
    assert verdict.kind == "error"
    assert verdict.error.exc_type == "MemoryError"
    assert verdict.error.lineno == 1


def test_non_zero_exit_without_traceback_is_an_error(run_script):
    verdict = verdict_of(run_script("import sys\nprint('bad config')\nsys.exit(3)\n"))
    assert (verdict.kind, verdict.error) == ("error", None)
    assert verdict.detail == "exited with code 3 without a traceback"


def test_reaching_the_time_limit_is_time_limit(tmp_path):
    code = "import time\nprint('training', flush=True)\ntime.sleep(60)\n"
    (tmp_path / "runfile.py").write_text(code)
    process = subprocess.Popen(
        [sys.executable, "runfile.py"], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    first_line = process.stdout.readline()
    process.kill()
    rest = process.communicate()[0]
    verdict = classify(
        exit_code=None,
        signal=-process.returncode,
        timed_out=True,
        cancelled=False,
        submission_written=False,
        output=first_line + rest,
        code=code,
        recorded_output="TimeoutError: Execution exceeded the time limit of 6 minutes",
    )
    assert verdict.kind == "time_limit"
    assert verdict.error is None
    assert verdict.match == "time_limit"  # nothing raised: never "the same error"


def test_cancelled_wins_over_everything():
    verdict = classify(
        exit_code=None,
        signal=15,
        timed_out=False,
        cancelled=True,
        submission_written=True,
        output="Traceback (most recent call last):\n",
        code="",
        recorded_output=RECORDED_KEYERROR,
    )
    assert (verdict.kind, verdict.match) == ("cancelled", None)


@pytest.mark.skipif(shutil.which("bwrap") is None, reason="needs bubblewrap")
def test_bubblewrap_failing_to_start_python_is_environment(tmp_path):
    done = subprocess.run(
        ["bwrap", "--ro-bind", "/", "/", "--chdir", str(tmp_path), "/no/such/python3", "runfile.py"],
        capture_output=True,
        text=True,
    )
    verdict = classify(
        exit_code=done.returncode,
        signal=None,
        timed_out=False,
        cancelled=False,
        submission_written=False,
        output=done.stdout + done.stderr,
        code="print(1)\n",
        recorded_output=RECORDED_KEYERROR,
    )
    assert verdict.kind == "environment"
    assert "bwrap: execvp /no/such/python3" in verdict.detail
    assert verdict.match is None


def test_a_shell_that_cannot_find_python_is_environment(tmp_path):
    done = subprocess.run(["/bin/sh", "-c", "no-such-python3 runfile.py"], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 127
    verdict = classify(
        exit_code=127,
        signal=None,
        timed_out=False,
        cancelled=False,
        submission_written=False,
        output=done.stderr,
        code="",
    )
    assert verdict.kind == "environment"
    assert "not found" in verdict.detail


def test_python_without_its_script_is_environment(tmp_path):
    done = subprocess.run([sys.executable, "runfile.py"], cwd=tmp_path, capture_output=True, text=True)
    verdict = classify(
        exit_code=done.returncode,
        signal=None,
        timed_out=False,
        cancelled=False,
        submission_written=False,
        output=done.stderr,
        code="print(1)\n",
    )
    assert verdict.kind == "environment"
    assert "can't open file" in verdict.detail


def test_apptainer_fatal_line_and_given_environment_error_are_environment():
    fatal = "FATAL:   could not open image /images/dojo.sif: failed to retrieve path: no such file or directory\n"
    verdict = classify(
        exit_code=255, signal=None, timed_out=False, cancelled=False, submission_written=False, output=fatal, code=""
    )
    assert verdict.kind == "environment"
    assert "dojo.sif" in verdict.detail
    given = classify(
        exit_code=None,
        signal=None,
        timed_out=False,
        cancelled=False,
        submission_written=False,
        output="",
        code="",
        environment_error="no prepared data for 'x'",
    )
    assert (given.kind, given.detail) == ("environment", "the sandbox failed: no prepared data for 'x'")


def test_a_script_traceback_is_never_taken_for_the_sandbox(run_script):
    verdict = verdict_of(run_script("print('bwrap: this is just text')\nraise ValueError('real bug')\n"))
    assert verdict.kind == "error"
    assert verdict.error.exc_type == "ValueError"


def test_classify_sets_the_match_against_the_recorded_output(run_script):
    run = run_script("rows = {}\nprint(rows['x'])\n")
    assert verdict_of(run, recorded_output=RECORDED_KEYERROR).match == "same"
    assert verdict_of(run, recorded_output="all good\nExecution time: 2 seconds").match == "no_recorded"
    clean = run_script("open('submission.csv', 'w').write('x')\n")
    assert verdict_of(clean, recorded_output=RECORDED_KEYERROR).match == "different"


def test_plain_run_matches_the_recorded_ipython_traceback(run_script, recorded):
    for fixture in ("dojo_keyerror.json", "dojo_library.json", "dojo_function.json"):
        code, term_out = recorded(fixture)
        observed = parse_error(run_script(code).output, code)
        assert compare(observed, term_out, code) == "same", fixture


def test_compare_different_type_or_line(run_script, recorded):
    code, term_out = recorded("dojo_keyerror.json")
    other_line = parse_error(run_script(code.replace("row['target']", "row['a']\nrow['target']")).output, code)
    assert other_line.lineno == 5
    assert compare(other_line, term_out, code) == "different"
    other_type = parse_error(run_script(code.replace("row['target']", "int('x')")).output, code)
    assert compare(other_type, term_out, code) == "different"
    assert compare(None, term_out, code) == "different"


def test_compare_by_text_when_the_recorded_code_was_shifted(run_script):
    original = "rows = {}\nprint(rows['x'])\n"
    recorded_output = run_script(original).output  # failing line 2 of the original
    shifted = "import os\n\n" + original  # the row's code: the failing line is now 4
    observed = parse_error(run_script(shifted).output, shifted)
    assert observed.lineno == 4
    assert compare(observed, recorded_output, shifted) == "same"


def test_compare_time_limits_and_missing_outputs():
    timeout = "Traceback (most recent call last):\nKeyboardInterrupt\nTimeoutError: Execution exceeded the time limit of an hour"
    assert compare(TIME_LIMIT_ERROR, timeout, "") == "same"
    assert compare(TIME_LIMIT_ERROR, RECORDED_KEYERROR, "") == "different"
    assert compare(TIME_LIMIT_ERROR, None, "") == "no_recorded"
    assert compare(None, "", "") == "no_recorded"
