"""Every verdict-producing path through ``execute``, with real bubblewrap and real subprocesses."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(60)

BACKENDS = ["bubblewrap", "local"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_traceback_is_an_error_verdict_with_the_failing_line(run_code, leftovers, backend):
    code = "import csv\ntrain = next(csv.DictReader(open('./data/train.csv')))\nprint(train['missing'])\n"
    run = run_code(code, backend)
    verdict = run.result.verdict
    assert verdict.kind == "error"
    assert verdict.error.exc_type == "KeyError"
    assert verdict.error.lineno == 3
    assert verdict.error.line_text == "print(train['missing'])"
    assert run.result.exit_code == 1
    assert leftovers(run.mark) == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_submission_is_reported_while_the_script_still_runs(run_code, backend):
    # The script waits for a file that only the on_submission callback creates:
    # it prints 'acknowledged' only if the report arrived while it was running.
    code = (
        "import os, shutil, time\n"
        "shutil.copy('./data/sample_submission.csv', 'submission.csv')\n"
        "deadline = time.time() + 10\n"
        "while not os.path.exists('ack') and time.time() < deadline:\n"
        "    time.sleep(0.01)\n"
        "print('acknowledged' if os.path.exists('ack') else 'no report')\n"
    )

    def acknowledge(path: Path) -> None:
        (path.parent / "ack").write_text("seen")

    run = run_code(code, backend, on_submission=acknowledge)
    assert "acknowledged" in run.printed
    assert run.result.verdict.kind == "clean"
    assert run.result.submission_written
    assert [p.name for p in run.submissions] == ["submission.csv"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_exit_zero_without_a_submission_is_no_submission(run_code, backend):
    run = run_code("print('trained, forgot to save')\n", backend)
    assert run.result.verdict.kind == "no_submission"
    assert run.result.exit_code == 0
    assert not run.result.submission_written
    assert run.submissions == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_run_that_outlives_the_limit_is_ended_as_time_limit(run_code, leftovers, backend):
    code = "import time\nprint('working', flush=True)\nwhile True:\n    time.sleep(0.1)\n"
    started = time.monotonic()
    run = run_code(code, backend, time_limit=2.0)
    took = time.monotonic() - started
    assert run.result.verdict.kind == "time_limit"
    assert run.result.timed_out
    assert 2.0 <= took < 8.0
    assert "working" in run.printed
    assert leftovers(run.mark) == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_script_killed_by_a_signal_is_killed(run_code, backend):
    run = run_code("import os, signal\nprint('bye', flush=True)\nos.kill(os.getpid(), signal.SIGKILL)\n", backend)
    assert run.result.verdict.kind == "killed"
    assert "SIGKILL" in run.result.verdict.detail


@pytest.mark.parametrize("backend", BACKENDS)
def test_allocating_past_the_memory_limit_fails_inside_the_script(run_code, backend):
    # 2 GB asked under a 1 GB limit: the allocation fails, the host is untouched.
    code = "import numpy as np\na = np.ones(2 * 1024**3 // 8)\nprint(a.sum())\n"
    run = run_code(code, backend, memory_limit="1G")
    assert run.result.verdict.kind == "error"
    assert "MemoryError" in run.result.verdict.error.exc_type


def test_missing_data_is_an_environment_verdict_without_running(run_code, tmp_path):
    run = run_code("open('ran', 'w').write('x')\n", "bubblewrap", data_root=tmp_path / "no-such-root")
    verdict = run.result.verdict
    assert verdict.kind == "environment"
    assert "no prepared data" in verdict.detail
    assert run.result.command == []
    assert not (run.result.run_dir / "scratch" / "ran").exists()
    assert run.result.log_path.read_bytes() == b""


def test_missing_image_is_an_environment_verdict(run_code, tmp_path):
    run = run_code("print(1)\n", "apptainer", image=str(tmp_path / "missing.sif"))
    assert run.result.verdict.kind == "environment"
    assert "image not found" in run.result.verdict.detail
    assert "missing.sif" in "".join(run.chunks)


@pytest.mark.parametrize("backend", BACKENDS)
def test_missing_python_is_an_environment_verdict(run_code, backend):
    run = run_code("print(1)\n", backend, python="/no/such/python3")
    assert run.result.verdict.kind == "environment"
    assert "python not found" in run.result.verdict.detail


@pytest.mark.parametrize("backend", BACKENDS)
def test_cancel_ends_the_run_and_its_processes(run_code, leftovers, backend):
    cancel = threading.Event()
    code = (
        "import subprocess, sys, time\n"
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        "print('ready', flush=True)\n"
        "time.sleep(60)\n"
    )

    def cancel_when_ready(printed: str, scratch: Path) -> None:
        if "ready" in printed:
            cancel.set()

    started = time.monotonic()
    run = run_code(code, backend, on_chunk=cancel_when_ready, cancel=cancel)
    assert run.result.verdict.kind == "cancelled"
    assert run.result.cancelled
    assert time.monotonic() - started < 15
    assert leftovers(run.mark) == []


def test_recorded_output_is_compared(make_settings, tmp_path):
    from runner.execute import execute
    from runner.spec import RunSpec

    code = "x = {}\nprint(x['target'])\n"
    recorded = (
        'Traceback (most recent call last):\n  File "runfile.py", line 2, in <module>\n'
        "    print(x['target'])\nKeyError: 'target'\n"
    )
    spec = RunSpec(code=code, competition_id="tiny-competition", settings=make_settings(), run_dir=tmp_path / "r")
    result = execute(spec, recorded_output=recorded)
    assert result.verdict.kind == "error"
    assert result.verdict.match == "same"
