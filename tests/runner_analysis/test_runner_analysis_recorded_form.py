"""A run's output rewritten into the recorded outputs' form: ``runfile.py`` for sandbox paths, AIDE's closing line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from runner.execute import execute
from runner.recorded_form import output_as_recorded
from runner.spec import RunSpec
from runner.tracebacks import parse_error
from workspace.config import RunSettings

pytestmark = pytest.mark.timeout(60)

AIDE_RECORDED = (
    'Traceback (most recent call last):\n  File "runfile.py", line 1, in <module>\n    {}["a"]\nKeyError: \'a\'\n'
    "Execution time: a moment seconds (time limit is an hour)."
)
CODE = "print('training', flush=True)\nrows = {}\nprint(rows['target'])\n"


def _run(tmp_path: Path, data_root: Path, backend: str, code: str, recorded: str | None, time_limit: float = 30.0):
    settings = RunSettings(backend=backend, data_root=data_root, time_limit=time_limit, memory_limit="2G")
    spec = RunSpec(code=code, competition_id="tiny-competition", settings=settings, run_dir=tmp_path / "run")
    return execute(spec, recorded_output=recorded)


def test_a_real_run_reads_like_the_recorded_aide_output(tmp_path, data_root, sandbox_backend):
    result = _run(tmp_path, data_root, sandbox_backend, CODE, AIDE_RECORDED)
    assert re.search(r'File "/[^"]+/runfile\.py", line 3', result.output_tail)  # the sandbox's own path
    form = result.to_record()["output_as_recorded"]
    assert 'File "runfile.py", line 3, in <module>' in form
    assert "/runfile.py" not in form
    assert form.endswith("KeyError: 'target'\nExecution time: a moment seconds (time limit is 30 seconds).")
    assert parse_error(form, CODE).lineno == 3


def test_a_time_limited_run_closes_with_the_timeout_line(tmp_path, data_root, sandbox_backend):
    result = _run(tmp_path, data_root, sandbox_backend, "import time\ntime.sleep(30)\n", AIDE_RECORDED, 2.0)
    assert result.output_as_recorded.endswith("TimeoutError: Execution exceeded the time limit of 2 seconds")


def test_without_a_closing_line_recorded_none_is_added():
    output = 'Traceback (most recent call last):\n  File "/sandbox/work/runfile.py", line 2, in <module>\nKeyError: 1\n'
    recorded = "\x1b[0;31mKeyError\x1b[0m: 1\n"  # an aira-dojo output without AIDE's closing line
    assert output_as_recorded(output, recorded, seconds=3.0, time_limit=360, timed_out=False) == (
        'Traceback (most recent call last):\n  File "runfile.py", line 2, in <module>\nKeyError: 1\n'
    )
    assert output_as_recorded("done\n", None, seconds=1.0, time_limit=360, timed_out=False) == "done\n"


def test_ipython_file_frames_and_minutes():
    output = "File /work/runfile.py:12, in main()\n"
    assert output_as_recorded(output, AIDE_RECORDED, seconds=125, time_limit=360, timed_out=False) == (
        "File runfile.py:12, in main()\nExecution time: 2 minutes seconds (time limit is 6 minutes)."
    )
