"""trace_step in the bubblewrap sandbox: the built-in tracer and a stand-in for the client's tool."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import threading
from pathlib import Path

import pytest

from runner.execute import execute
from runner.spec import RunSpec
from tracer_adapter.adapter import TRACER_FILE, trace_step
from tracer_adapter.trace_index import TraceIndex, code_path
from tracer_adapter.verbatim import check_analysis
from workspace.config import Config, RunSettings, TraceSettings
from workspace.done_check import code_sha256
from workspace.errors import InputError
from workspace.store import open_workspace

COMPETITION = "toy-competition"
BUGGY = """\
import csv


def load(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def total(rows):
    s = 0
    for row in rows:
        s += int(row["value"])
    return s + int(rows[0]["missing"])


rows = load("./data/train.csv")
print("rows", len(rows))
print(total(rows))
"""
FIXED = BUGGY.replace('int(rows[0]["missing"])', "0")
RECORDED = """\
rows 3
Traceback (most recent call last):
  File "runfile.py", line 18, in <module>
    print(total(rows))
          ^^^^^^^^^^^
  File "runfile.py", line 13, in total
    return s + int(rows[0]["missing"])
                   ~~~~~~~^^^^^^^^^^^
KeyError: 'missing'
Execution time: a moment seconds (time limit is an hour)."""

# A stand-in for the client's tool: log lines, then the trace of code_to_trace.py on stdout.
CLIENT_MAIN = """\
import subprocess
import sys

print("INFO client tracer 0.1: starting")
print("INFO tracing code_to_trace.py")
sys.stdout.flush()
subprocess.run([sys.executable, "cwm_tracer.py", "code_to_trace.py", "--out", "/tmp/t.txt",
                "--meta", "/tmp/m.json"], check=False)
with open("/tmp/t.txt") as f:
    sys.stdout.write(f.read())
"""


def _normalise(text: str) -> str:
    """Addresses as the golden files write them, and without the entry marker the client's copy carries."""
    return re.sub(r"\s*# << START_OF_TRACE", "", re.sub(r"0x[0-9a-f]+", "0xADDR", text))


@pytest.fixture
def setup(tmp_path: Path, make_dataset):
    data = tmp_path / "mle" / COMPETITION / "prepared" / "public"
    data.mkdir(parents=True)
    (data / "train.csv").write_text("id,value\n1,10\n2,20\n3,30\n", encoding="utf-8")
    dataset = make_dataset([{"code": BUGGY, "_term_out": RECORDED, "competition_id": COMPETITION}])
    config = Config(run=RunSettings(backend="bubblewrap", data_root=tmp_path / "mle", time_limit=60))
    ws = open_workspace(dataset, tmp_path / "ws")
    yield ws, config, tmp_path
    ws.close()


def test_builtin_trace_in_bubblewrap_matches_the_plain_run(setup) -> None:
    ws, config, tmp_path = setup
    plain = execute(
        RunSpec(code=BUGGY, competition_id=COMPETITION, settings=config.run, run_dir=tmp_path / "plain"),
        recorded_output=RECORDED,
    )
    record = trace_step(ws, config, "row-0", 0)

    assert record.meta.run_verdict.kind == plain.verdict.kind == "error"
    assert record.meta.run_verdict.match == plain.verdict.match == "same"
    assert record.meta.run_verdict.error.exc_type == plain.verdict.error.exc_type == "KeyError"
    trace = Path(record.trace_path)
    assert trace.parent == ws.trace_dir("row-0", 0)
    assert record.code_sha256 == code_sha256(BUGGY)
    assert code_path(trace).read_text(encoding="utf-8") == BUGGY
    meta = json.loads(Path(record.meta_path).read_text(encoding="utf-8"))
    assert meta["tracer"] == "builtin"
    assert meta["entry"] == "total"
    assert meta["cut"] is False
    assert meta["tracer_meta"]["exception"] == "KeyError: 'missing'"
    assert meta["budgets"]["max_frames"] == config.trace.max_frames
    assert [t.id for t in ws.traces("row-0", 0)] == [record.id]

    with TraceIndex.open(trace) as index:
        assert record.index_path.is_file()
        first = index.line(0)
        assert first.startswith("<|frame_sep|><|call_sep|>{\"rows\": \"[{'id': '1', 'value': '10'}")
        assert first.endswith("<|action_sep|>def total(rows):")
        assert index.info(0).source_lineno == 9
        exception = index.first_exception()
        assert (
            index.line(exception)
            == '<|frame_sep|><|exception_sep|><|action_sep|>    return s + int(rows[0]["missing"])'
        )
        assert index.info(exception).source_lineno == 13
        quoted = [index.line(1), index.line(exception)]
    analysis = "The data is read:\n```\n" + "\n".join(quoted) + "\n```\n"
    assert check_analysis(analysis, [trace]) == []


def test_whole_script_and_a_fix(setup) -> None:
    ws, config, _ = setup
    whole = trace_step(ws, config, "row-0", 0, entry=None)
    with TraceIndex.open(Path(whole.trace_path)) as index:
        assert index.info(0).kind == "call"
        assert index.line(0).startswith("<|frame_sep|><|call_sep|>{}")
        assert index.line(1) == "<|frame_sep|><|line_sep|>{}<|action_sep|>import csv"
        assert index.info(1).source_lineno == 1
        assert index.find("\"rows\": \"[{'id': '1'") is not None  # the data at ./data was read
    fixed = trace_step(ws, config, "row-0", 0, code=FIXED, entry="total")
    assert fixed.code_sha256 == code_sha256(FIXED)
    assert fixed.meta.run_verdict.kind != "error"
    assert fixed.meta.run_verdict.match is None
    assert len(ws.traces("row-0", 0)) == 2


def test_unknown_entry_and_tracer_are_input_errors(setup) -> None:
    ws, config, _ = setup
    with pytest.raises(InputError, match="entry function 'nope' is not defined"):
        trace_step(ws, config, "row-0", 0, entry="nope")
    odd = dataclasses.replace(config, trace=TraceSettings(tracer="other"))
    with pytest.raises(InputError, match="trace.tracer"):
        trace_step(ws, odd, "row-0", 0)


def _client_tool(folder: Path, main: str = CLIENT_MAIN) -> Path:
    folder.mkdir()
    (folder / "main.py").write_text(main, encoding="utf-8")
    (folder / "requirements.txt").write_text("", encoding="utf-8")
    (folder / "code_to_trace.py").write_text("# replaced by the code to trace\n", encoding="utf-8")
    shutil.copyfile(TRACER_FILE, folder / "cwm_tracer.py")
    return folder


def test_client_tool(setup) -> None:
    ws, config, tmp_path = setup
    tool = _client_tool(tmp_path / "client")
    client = dataclasses.replace(config, trace=TraceSettings(tracer="client", client_path=tool))
    record = trace_step(ws, client, "row-0", 0, entry="total")
    builtin = trace_step(ws, config, "row-0", 0, entry="total")

    stored = Path(record.trace_path).read_text(encoding="utf-8")
    assert "\r" not in stored
    assert "INFO" not in stored
    assert stored.startswith("<|frame_sep|><|call_sep|>")
    assert _normalise(stored) == _normalise(Path(builtin.trace_path).read_text(encoding="utf-8"))
    assert (record.meta.tracer, record.meta.cut) == ("client", None)
    meta = json.loads(record.meta_path.read_text(encoding="utf-8"))
    assert meta["client_path"] == str(tool)
    assert "own" in meta["budgets"]
    assert meta["log_bytes_dropped_before"] > len("INFO client tracer 0.1: starting")
    assert code_path(Path(record.trace_path)).read_text(encoding="utf-8").count("# << START_OF_TRACE") == 1
    assert (tool / "code_to_trace.py").read_text(encoding="utf-8") == "# replaced by the code to trace\n"


def test_client_tool_errors(setup) -> None:
    ws, config, tmp_path = setup
    unset = dataclasses.replace(config, trace=TraceSettings(tracer="client"))
    with pytest.raises(InputError, match="trace.client_path: not set"):
        trace_step(ws, unset, "row-0", 0)
    incomplete = tmp_path / "incomplete"
    incomplete.mkdir()
    (incomplete / "main.py").write_text("print('hi')\n", encoding="utf-8")
    with pytest.raises(InputError, match="has no requirements.txt, code_to_trace.py"):
        trace_step(
            ws, dataclasses.replace(config, trace=TraceSettings(tracer="client", client_path=incomplete)), "row-0", 0
        )
    silent = _client_tool(tmp_path / "silent", main="print('INFO nothing to trace today')\n")
    with pytest.raises(InputError, match="printed no trace"):
        trace_step(
            ws, dataclasses.replace(config, trace=TraceSettings(tracer="client", client_path=silent)), "row-0", 0
        )


def test_cancelled_tracing_stores_nothing(setup) -> None:
    ws, config, _ = setup
    stop = threading.Event()
    stop.set()
    with pytest.raises(InputError, match="tracing was cancelled"):
        trace_step(ws, config, "row-0", 0, cancel=stop)
    assert ws.traces("row-0", 0) == []


def test_client_tool_whole_script_keeps_the_script_line_numbers(setup) -> None:
    ws, config, tmp_path = setup
    tool = _client_tool(tmp_path / "client")
    client = dataclasses.replace(config, trace=TraceSettings(tracer="client", client_path=tool))
    record = trace_step(ws, client, "row-0", 0, entry=None)
    assert code_path(Path(record.trace_path)).read_text(encoding="utf-8") == BUGGY
    with TraceIndex.open(Path(record.trace_path)) as index:
        first_line = index.find("<|action_sep|>import csv")
        assert first_line is not None
        assert index.info(first_line).source_lineno == 1
        loaded = index.find('<|action_sep|>print("rows", len(rows))')
        assert loaded is not None
        assert index.info(loaded).source_lineno == 17
        assert "'value': '10'" in index.line(loaded)  # ./data/train.csv was read from the copy's folder
        exception = index.first_exception()
        assert index.info(exception).source_lineno == 13
