"""TraceIndex on the golden traces and on a generated large trace."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
from tracer_data_synthetic import FRAMES_PER_ITERATION, write_synthetic_trace

import tracer_adapter
from tracer_adapter.draft import draft_analysis
from tracer_adapter.trace_index import IndexCancelled, LineInfo, TraceIndex, index_path
from workspace.errors import InputError

EX2_EXPECTED = [  # (kind, frame, depth, source line) per text line of ex2.trace
    ("call", 0, 0, 8),
    ("line", 1, 0, 9),
    ("call", 2, 1, 1),
    ("line", 3, 1, 2),
    ("line", 4, 1, 3),
    ("line", 5, 1, 4),
    ("line", 6, 1, 5),
    ("line", 7, 1, 6),
    ("line", 8, 1, 3),
    ("line", 9, 1, 4),
    ("line", 10, 1, 5),
    ("line", 11, 1, 6),
    ("line", 12, 1, 3),
    ("line", 13, 1, 4),
    ("line", 14, 1, 6),
    ("exception", 15, 1, 6),
    ("return", 16, 1, 6),
    ("exception", 17, 0, 9),
    ("return", 18, 0, 9),
    ("arg", 18, 0, 9),
]


def test_golden_lines_are_the_raw_text_lines(golden) -> None:
    for name, count in (("ex1", 17), ("ex2", 20)):
        trace = golden(name)
        raw = trace.read_text(encoding="utf-8").split("\n")
        with TraceIndex.open(trace) as index:
            assert len(index) == count == len(raw)
            assert [index.line(i) for i in range(len(index))] == raw
            assert index.lines(0, len(index)) == raw
            assert index.lines(3, 6) == raw[3:6]
            assert index.line(len(index) - 1).endswith("<|frame_sep|>")
            with pytest.raises(IndexError):
                index.line(count)


def test_golden_kinds_frames_depths_and_source_lines(golden) -> None:
    with TraceIndex.open(golden("ex2")) as index:
        got = [(i.kind, i.frame, i.depth, i.source_lineno) for i in map(index.info, range(len(index)))]
        assert got == EX2_EXPECTED
        assert index.frame_count == 19
        # the continuation line carrying the exception of main starts with the previous frame's value
        assert index.info(17) == LineInfo(frame=17, kind="exception", depth=0, source_lineno=9, carries_value=True)
        assert not index.info(15).carries_value


def test_without_code_source_lines_are_unknown(golden) -> None:
    with TraceIndex.open(golden("ex1", with_code=False)) as index:
        assert {index.info(i).source_lineno for i in range(len(index))} == {None}
        assert [index.info(i).depth for i in (0, 2, 14, 15, 16)] == [0, 1, 1, 0, 0]
        assert index.first_exception() is None


def test_navigation_on_golden(golden) -> None:
    with TraceIndex.open(golden("ex2")) as index:
        assert index.first_exception() == 15
        assert index.find("KeyError") == 16
        assert index.find("KeyError", 17) == 18
        assert index.find("KeyError", 17, backwards=True) == 16
        assert index.find("KeyError", 19) is None
        assert index.find("no such text") is None
        assert index.next_source_line(6, 0) == 7
        assert index.next_source_line(6, 8) == 11
        assert index.next_source_line(6, 20) is None
        # new_d first appears on line 4, then changes after each assignment in the loop
        assert index.next_change("new_d", 3) == 4
        assert index.next_change("new_d", 4) == 7
        assert index.next_change("new_d", 7) == 8
        assert index.next_change("key", 5) == 9
        # in main's frame nothing changes: the only locals are {}
        assert index.next_change("new_d", 1) is None


def test_saved_index_is_reused_and_rebuilt_when_the_trace_changes(golden) -> None:
    trace = golden("ex1")
    with TraceIndex.open(trace) as index:
        assert len(index) == 17
    saved = index_path(trace)
    first = saved.stat()
    with TraceIndex.open(trace) as index:
        assert len(index) == 17
    assert saved.stat().st_mtime_ns == first.st_mtime_ns
    assert saved.stat().st_ino == first.st_ino

    text = trace.read_text(encoding="utf-8")
    trace.write_text(
        text.replace('<|arg_sep|>"{1: 2, 2: 4}"<|frame_sep|>', '<|arg_sep|>"X"<|frame_sep|>')
        + "\n<|frame_sep|><|line_sep|>{}<|action_sep|>    extra",
        encoding="utf-8",
    )
    with TraceIndex.open(trace) as index:
        assert len(index) == 18
        assert index.line(17) == "<|frame_sep|><|line_sep|>{}<|action_sep|>    extra"
        assert index.line(16) == '<|arg_sep|>"X"<|frame_sep|>'
    assert saved.stat().st_ino != first.st_ino


def test_changed_code_renumbers_source_lines(golden) -> None:
    trace = golden("ex2")
    with TraceIndex.open(trace) as index:
        assert index.info(0).source_lineno == 8
    code = Path(str(trace) + ".code.py")
    code.write_text("# a comment line on top\n" + code.read_text(encoding="utf-8"), encoding="utf-8")
    with TraceIndex.open(trace) as index:
        assert index.info(0).source_lineno == 9


def test_ambiguous_source_lines_follow_the_function(tmp_path: Path) -> None:
    code = "def a(x):\n    return x\ndef b(x):\n    y = x\n    return x\ndef main():\n    return a(1) + b(2)\n"
    trace = tmp_path / "t.trace"
    trace.write_text(
        "<|frame_sep|><|call_sep|>{}<|action_sep|>def main():\n"
        "<|frame_sep|><|line_sep|>{}<|action_sep|>    return a(1) + b(2)\n"
        '<|frame_sep|><|call_sep|>{"x": "1"}<|action_sep|>def a(x):\n'
        '<|frame_sep|><|line_sep|>{"x": "1"}<|action_sep|>    return x\n'
        "<|frame_sep|><|return_sep|><|action_sep|>    return x\n"
        '<|arg_sep|>"1"<|frame_sep|><|call_sep|>{"x": "2"}<|action_sep|>def b(x):\n'
        '<|frame_sep|><|line_sep|>{"x": "2"}<|action_sep|>    y = x\n'
        '<|frame_sep|><|line_sep|>{"x": "2", "y": "2"}<|action_sep|>    return x\n'
        "<|frame_sep|><|return_sep|><|action_sep|>    return x\n"
        '<|arg_sep|>"2"<|frame_sep|><|return_sep|><|action_sep|>    return a(1) + b(2)\n'
        '<|arg_sep|>"3"<|frame_sep|>',
        encoding="utf-8",
    )
    with TraceIndex.open(trace, code=code) as index:
        assert [index.info(i).source_lineno for i in range(len(index))] == [6, 7, 1, 2, 2, 3, 4, 5, 5, 7, 7]
        assert [index.info(i).depth for i in range(len(index))] == [0, 0, 1, 1, 1, 1, 1, 1, 1, 0, 0]
        assert index.next_change("x", 2) is None  # x never changes inside one call of a


def test_lines_outside_the_format_are_kept_as_other(tmp_path: Path) -> None:
    trace = tmp_path / "t.trace"
    trace.write_text(
        "tool log line\n<|frame_sep|><|call_sep|>{}<|action_sep|>def main():\n<|arg_sep|>oops\n"
        "<|frame_sep|><|weird_sep|>\n<|frame_sep|>",
        encoding="utf-8",
    )
    with TraceIndex.open(trace) as index:
        assert [index.info(i).kind for i in range(5)] == ["other", "call", "other", "other", "end"]
        assert index.frame_count == 1
        assert index.line(0) == "tool log line"


def test_empty_trace(tmp_path: Path) -> None:
    trace = tmp_path / "empty.trace"
    trace.write_bytes(b"")
    with TraceIndex.open(trace) as index:
        assert len(index) == 0
        assert index.find("x") is None
        assert index.first_exception() is None
        assert index.lines(0, 10) == []


def test_progress_and_cancel(golden) -> None:
    trace = golden("ex2")
    seen: list[float] = []
    with TraceIndex.open(trace, progress=seen.append):
        pass
    assert seen[-1] == 1.0
    assert seen == sorted(seen)

    other = golden("ex1")
    stop = threading.Event()
    stop.set()
    with pytest.raises(IndexCancelled):
        TraceIndex.open(other, cancel=stop)
    assert not index_path(other).exists()


def test_large_generated_trace(tmp_path: Path) -> None:
    frames = 200_000
    trace = write_synthetic_trace(tmp_path / "big.trace", frames)
    with TraceIndex.open(trace) as index:
        n = len(index)
        assert index.frame_count >= frames - FRAMES_PER_ITERATION
        with open(trace, encoding="utf-8") as f:
            assert index.line(0) == f.readline().rstrip("\n")
        assert index.line(n - 1) == '<|arg_sep|>"None"<|frame_sep|>'
        exception = index.first_exception()
        assert exception == n - 5
        assert "raise ValueError(y)" in index.line(exception)
        assert index.info(exception).depth == 1
        assert index.info(exception).source_lineno == 4
        assert index.info(n - 4).kind == "return"
        assert index.find("<class 'ValueError'>") == n - 4
        assert index.find("def step(x):", n - 1, backwards=True) == n - 9
        assert index.next_source_line(4, 0) == n - 6
        middle = n // 2
        assert index.info(middle).frame == middle  # one event per line until the final value
        assert index.lines(middle, middle + 2) == [index.line(middle), index.line(middle + 1)]
    with TraceIndex.open(trace) as again:  # loaded from the saved index
        assert len(again) == n
        assert again.first_exception() == exception


def test_trace_cut_by_the_tracer_keeps_depths_after_the_gap(tmp_path: Path) -> None:
    script = tmp_path / "loop.py"
    script.write_text(
        "def inner(n):\n    return n + 1\n"
        "def work(n):  # << START_OF_TRACE\n    total = 0\n    for i in range(n):\n        total += inner(i)\n"
        "    raise ValueError(total)\n"
        "work(3000)\n",
        encoding="utf-8",
    )
    trace = tmp_path / "loop.trace"
    tracer = Path(tracer_adapter.__file__).with_name("cwm_tracer.py")
    done = subprocess.run(
        [
            sys.executable,
            str(tracer),
            str(script),
            "--out",
            str(trace),
            "--meta",
            str(tmp_path / "meta.json"),
            "--max-frames",
            "100",
        ],
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert b"ValueError" in done.stderr
    with TraceIndex.open(trace, code=script.read_text(encoding="utf-8")) as index:
        infos = [index.info(i) for i in range(len(index))]
        notes = [i for i, info in enumerate(infos) if info.kind == "other"]
        assert len(notes) == 1
        assert "frames cut here" in index.line(notes[0])
        after = infos[notes[0] + 1 :]
        assert after[0].kind == "return"
        assert after[0].depth == 1
        assert after[0].source_lineno == 2
        assert min(info.depth for info in infos) == 0
        exception = index.first_exception()
        assert exception > notes[0]
        assert infos[exception].depth == 0
        assert infos[exception].source_lineno == 7
        assert (infos[-1].kind, infos[-1].depth) == ("arg", 0)
        assert index.next_source_line(6, notes[0]) is not None


def test_after_a_cut_an_invocation_whose_call_was_cut_keeps_its_own_lines(tmp_path: Path) -> None:
    """The kept tail starts inside fill()'s loop; the module's lines after fill returns are not fill's."""
    script = tmp_path / "cut.py"
    script.write_text(
        "def fill(n):\n    out = []\n    for i in range(n):\n        out.append(i)\n    return out\n"
        "data = fill(3000)\ntotal = sum(data)\nvalue = {'a': 1}['b']\n",
        encoding="utf-8",
    )
    trace = tmp_path / "cut.trace"
    tracer = Path(tracer_adapter.__file__).with_name("cwm_tracer.py")
    argv = [sys.executable, str(tracer), str(script), "--out", str(trace), "--meta", str(tmp_path / "m.json")]
    done = subprocess.run([*argv, "--max-frames", "100"], capture_output=True, timeout=60)
    assert b"KeyError" in done.stderr
    with TraceIndex.open(trace, code=script.read_text(encoding="utf-8")) as index:
        crash = index.crash_line()
        assert index.info(crash).source_lineno == 8
        own = [index.info(int(i)).source_lineno for i in index.invocation_lines(crash)]
        assert own == [7, 8]  # the module's lines after the cut; fill's loop lines are another invocation's
        last_loop_line = max(i for i in range(len(index)) if index.info(i).source_lineno == 4)
        assert {index.info(int(i)).source_lineno for i in index.invocation_lines(last_loop_line)} <= {3, 4}
        draft = draft_analysis(index)
    assert "\n```\n```" not in draft  # no empty block (the cut took the calls away)
    assert "out.append(i)" not in draft


def test_missing_trace_and_damaged_index(golden, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="nothing.trace: trace file not found"):
        TraceIndex.open(tmp_path / "nothing.trace")
    trace = golden("ex1")
    index_path(trace).write_bytes(b"not an index")
    with TraceIndex.open(trace) as index:
        assert len(index) == 17
