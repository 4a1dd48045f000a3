"""A traced script shares the tracer's process: what it leaves as its trace is refused unless it is a bounded file.

Also: the sandbox interpreter given as a relative path with ``..`` works for
runs, the tracer and the demo builder alike (the backend owns the path).
"""

from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path

import pytest

from demo.builder import DRIVER_NAME, generation_spec
from demo.catalogue import ROWS
from runner.backends import BubblewrapBackend
from runner.execute import execute
from runner.spec import RunSpec
from tracer_adapter.adapter import trace_step
from workspace.config import Config, RunSettings, TraceSettings
from workspace.errors import InputError
from workspace.store import open_workspace

pytestmark = pytest.mark.timeout(120)
COMPETITION = "toy-competition"
PLAIN = "print('hello')\nraise KeyError('x')\n"


@pytest.fixture
def setup(tmp_path: Path, make_dataset):
    data = tmp_path / "mle" / COMPETITION / "prepared" / "public"
    data.mkdir(parents=True)
    (data / "train.csv").write_text("id,value\n1,10\n", encoding="utf-8")
    dataset = make_dataset([{"code": PLAIN, "competition_id": COMPETITION}])
    config = Config(run=RunSettings(backend="bubblewrap", data_root=tmp_path / "mle", time_limit=60, memory_limit="1G"))
    ws = open_workspace(dataset, tmp_path / "ws")
    yield ws, config, tmp_path
    ws.close()


def test_a_trace_replaced_by_a_symlink_is_refused(setup):
    ws, config, _ = setup
    code = "import os\nos.unlink('cwm_trace.txt')\nos.symlink('/etc/hostname', 'cwm_trace.txt')\nraise KeyError('x')\n"
    with pytest.raises(InputError, match="cwm_trace.txt: refused: a symlink"):
        trace_step(ws, config, "row-0", 0, code=code, entry=None)
    assert ws.traces("row-0", 0) == []


def test_a_100_mb_self_written_trace_is_refused_before_indexing(setup):
    ws, config, _ = setup
    code = (
        "with open('cwm_trace.txt', 'ab') as f:\n"
        "    for _ in range(100):\n"
        "        f.write(b'<|frame_sep|>' * (1024 * 1024 // 13))\n"
        "raise KeyError('x')\n"
    )
    small = dataclasses.replace(config, trace=TraceSettings(max_bytes=5_000_000))
    with pytest.raises(InputError, match=r"refused: \d+ bytes, more than the 6048576 allowed"):
        trace_step(ws, small, "row-0", 0, code=code, entry=None)
    assert ws.traces("row-0", 0) == []


def test_a_relative_interpreter_with_dotdot_works_for_runs_traces_and_the_demo(setup, monkeypatch):
    ws, config, tmp_path = setup
    monkeypatch.chdir(tmp_path)
    relative = os.path.relpath(sys.executable, tmp_path)
    assert relative.startswith("..")
    settings = dataclasses.replace(config.run, python=relative)
    run = execute(RunSpec(code=PLAIN, competition_id=COMPETITION, settings=settings, run_dir=tmp_path / "run"))
    assert run.verdict.kind == "error", run.verdict
    assert "hello" in run.output_tail
    assert run.command[-2:] == [os.path.abspath(sys.executable), "runfile.py"]
    traced = trace_step(ws, dataclasses.replace(config, run=settings), "row-0", 0, entry=None)
    assert traced.meta.run_verdict.kind == "error"
    demo = generation_spec(ROWS[0], settings, tmp_path / "mle", tmp_path / "demo-run")
    argv = BubblewrapBackend().command(demo)
    assert argv[argv.index(os.path.abspath(sys.executable)) + 1] == DRIVER_NAME
