"""``nodefix trace``: headless tracing from the command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from tracer_adapter.trace_index import TraceIndex
from tui.cli import main

CODE = """\
def mean(values):
    return sum(values) / len(values)


with open("./data/numbers.txt") as f:
    numbers = [int(x) for x in f.read().split()]
print(mean(numbers[5:]))
"""
RECORDED = """\
Traceback (most recent call last):
  File "runfile.py", line 7, in <module>
    print(mean(numbers[5:]))
  File "runfile.py", line 2, in mean
    return sum(values) / len(values)
ZeroDivisionError: division by zero
"""


@pytest.fixture
def dataset(tmp_path: Path, make_dataset, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "mle" / "toy" / "prepared" / "public"
    data.mkdir(parents=True)
    (data / "numbers.txt").write_text("1 2 3\n", encoding="utf-8")
    (tmp_path / "nodefix.toml").write_text(
        '[run]\nbackend = "bubblewrap"\ndata_root = "mle"\ntime_limit = 60\n', encoding="utf-8"
    )
    return make_dataset([{"code": CODE, "_term_out": RECORDED, "competition_id": "toy"}])


def _lines(text: str, prefix: str) -> list[str]:
    return [line[len(prefix) :] for line in text.splitlines() if line.startswith(prefix)]


def test_trace_prints_where_it_went_and_a_summary(dataset: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["trace", str(dataset), "--id", "row-0"]) == 0
    out, err = capsys.readouterr()
    assert "nodefix: workspace " in err
    assert "ZeroDivisionError" in err
    [trace] = _lines(out, "trace: ")
    [meta] = _lines(out, "metadata: ")
    assert Path(trace).is_file()
    assert Path(meta).is_file()
    summary = out.splitlines()[-1]
    assert "frames" in summary
    assert "complete" in summary
    assert "same error as recorded" in summary
    with TraceIndex.open(Path(trace)) as index:
        assert index.line(0).endswith("<|action_sep|>def mean(values):")  # auto entry: the failing function
        assert index.first_exception() is not None


def test_trace_a_file_of_code_as_a_whole_script_with_a_copy(
    dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    fix = tmp_path / "fix.py"
    fix.write_text(CODE.replace("numbers[5:]", "numbers"), encoding="utf-8")
    copy = tmp_path / "copy.trace"
    assert (
        main(["trace", str(dataset), "--id", "row-0", "--code", str(fix), "--entry", "script", "--out", str(copy)]) == 0
    )
    out, _ = capsys.readouterr()
    [trace] = _lines(out, "trace: ")
    assert _lines(out, "copied to: ") == [str(copy)]
    assert copy.read_bytes() == Path(trace).read_bytes()
    assert "<|action_sep|>print(mean(numbers))" in copy.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--code", "missing.py"], "missing.py: cannot read the code to trace"),
        (["--entry", "nope"], "entry function 'nope' is not defined"),
        (["--step", "3"], "no debug step 3"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    dataset: Path, capsys: pytest.CaptureFixture, extra: list[str], message: str
) -> None:
    assert main(["trace", str(dataset), "--id", "row-0", *extra]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert message in err[-1]
    assert err[-1].startswith("nodefix: ")


def test_unknown_row_exits_2(dataset: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["trace", str(dataset), "--id", "no-such-row"]) == 2
    assert "no-such-row" in capsys.readouterr().err


def test_a_trace_killed_at_the_time_limit_is_stored_as_incomplete(
    dataset: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    slow = tmp_path / "slow.py"
    slow.write_text("import time\nsteps = [n * 2 for n in range(3)]\nprint(steps, flush=True)\ntime.sleep(60)\n")
    assert main(["trace", str(dataset), "--id", "row-0", "--code", str(slow), "--time-limit", "3"]) == 0
    out, _ = capsys.readouterr()
    summary = out.strip().splitlines()[-1]
    assert "incomplete: killed at the time limit after " in summary, summary
    assert "complete;" not in summary.replace("incomplete", "")
    trace_path = Path(_lines(out, "trace: ")[0])
    with TraceIndex.open(trace_path) as index:
        assert index.frame_count > 3
    text = trace_path.read_text(encoding="utf-8")
    assert "steps = [n * 2 for n in range(3)]" in text
    assert "[cwm_tracer: killed by SIGTERM after" in text


def test_trace_refuses_a_time_limit_of_zero(dataset: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["trace", str(dataset), "--id", "row-0", "--time-limit", "0"]) == 2
    assert "--time-limit must be more than 0 seconds, not 0.0" in capsys.readouterr().err
