"""Each budget fires, keeps the trace useful (first frames, last frames, the end) and says so."""

from __future__ import annotations

import json
import re
import time

LOOP = """
    def work(n):
        items = []
        for i in range(n):
            items.append(i)
        return len(items)

    def main():  # << START_OF_TRACE
        return work(5000)

    if __name__ == "__main__":
        print(main())
"""


def test_frame_cap_keeps_first_and_last_frames(script, traced) -> None:
    result = traced(script(LOOP), "--max-frames", "100")
    meta = result.meta
    assert result.process.stdout == "5000\n"
    assert meta["frames_total"] == 2 * 5000 + 8
    assert meta["caps_fired"] == ["max_frames"]
    head_end, tail_start = meta["first_kept"][1], meta["last_kept"][0]
    assert meta["first_kept"][0] == 1
    assert meta["last_kept"][1] == meta["frames_total"]
    assert meta["frames_written"] == head_end + meta["frames_total"] - tail_start + 1 == 100
    assert meta["frames_dropped"] == tail_start - head_end - 1 > 0
    gap = (
        f"<|frame_sep|>[cwm_tracer: {meta['frames_dropped']} frames cut here (frames {head_end + 1}.."
        f"{tail_start - 1} of {meta['frames_total']}); cap: max_frames]"
    )
    assert result.lines.count(gap) == 1
    assert result.lines[0] == "<|frame_sep|><|call_sep|>{}<|action_sep|>def main():  # << START_OF_TRACE"
    assert result.lines[-1] == '<|arg_sep|>"5000"<|frame_sep|>'
    assert result.lines[-2].endswith("<|return_sep|><|action_sep|>    return work(5000)")
    # every kept frame is whole: one event token each
    assert (
        sum(
            result.trace.count(token)
            for token in ("<|call_sep|>", "<|line_sep|>", "<|return_sep|>", "<|exception_sep|>")
        )
        == 100
    )


def test_frame_cap_keeps_the_exception(script, traced) -> None:
    result = traced(script(LOOP.replace("return len(items)", "return items[n]")), "--max-frames", "40")
    assert result.process.returncode == 1
    assert "IndexError" in result.process.stderr
    exceptions = [line for line in result.lines if "<|exception_sep|>" in line]
    assert exceptions[0] == "<|frame_sep|><|exception_sep|><|action_sep|>    return items[n]"
    assert result.lines[-1] == '<|arg_sep|>"None"<|frame_sep|>'
    assert result.meta["raised"] is True
    assert result.meta["frames_written"] == 40


def test_byte_cap(script, traced) -> None:
    result = traced(script(LOOP), "--max-bytes", "20000", "--max-frames", "0")
    meta = result.meta
    assert meta["caps_fired"] == ["max_bytes"]
    assert meta["frames_dropped"] > 0
    # at most one frame beyond the budget, plus the gap line
    assert meta["bytes"] == len(result.trace.encode()) < 20000 + 1000
    assert result.lines[-1] == '<|arg_sep|>"5000"<|frame_sep|>'
    assert sum("frames cut here" in line for line in result.lines) == 1


def test_time_cap_stops_tracing_and_the_script_runs_on(script, traced) -> None:
    path = script("""
        import time

        def spin(seconds):
            end = time.monotonic() + seconds
            count = 0
            while time.monotonic() < end:
                count += 1
            return count > 0

        print(spin(1.5))
        print("after")
    """)
    started = time.monotonic()
    result = traced(path, "--max-seconds", "0.3")
    assert result.process.stdout == "True\nafter\n"
    assert result.process.returncode == 0
    assert time.monotonic() - started < 30
    assert result.meta["stopped_by_time"] is True
    assert "max_seconds" in result.meta["caps_fired"]
    assert result.meta["tracing_seconds"] >= 1.5  # the script ran to its end
    assert re.fullmatch(
        r"\[cwm_tracer: tracing stopped after [\d.]+ s \(max_seconds=0.3\); "
        r"the script ran on untraced\]<\|frame_sep\|>",
        result.lines[-1].split("<|frame_sep|>", 1)[1],
    )
    assert result.lines[0] == "<|frame_sep|><|call_sep|>{}<|action_sep|>import time"


def test_value_cap_never_renders_the_whole_value(script, traced) -> None:
    path = script("""
        import time

        class Forever:
            def __repr__(self):
                time.sleep(3600)
                return "never"

        big = list(range(10 ** 7)) + [Forever()]
        text = "ab'c" * 10 ** 7
        numbers = tuple(range(10 ** 6))
        done = True
    """)
    started = time.monotonic()
    result = traced(path, "--max-value-chars", "40")
    assert time.monotonic() - started < 30
    assert result.process.returncode == 0
    last = result.lines[-3]
    assert last.endswith("<|action_sep|>done = True")
    for name, value in (
        ("big", repr(list(range(20)))[:40] + "...<cut, list of 10000001 items>"),
        ("text", repr("ab'c" * 20)[:40] + "...<cut, str of 40000000 chars>"),
        ("numbers", repr(tuple(range(20)))[:40] + "...<cut, tuple of 1000000 items>"),
    ):
        assert f'"{name}": {json.dumps(value)}' in last
    assert result.meta["values_cut"] >= 3


def test_own_repr_is_called_and_cut_with_its_length(script, traced) -> None:
    path = script("""
        class Wide:
            def __repr__(self):
                return "W" * 1000

        w = Wide()
        done = 1
    """)
    result = traced(path, "--max-value-chars", "10")
    assert '"w": "WWWWWWWWWW...<cut 990 chars>"' in result.trace


def test_no_caps(script, traced) -> None:
    result = traced(
        script(LOOP.replace("5000", "300")),
        "--max-frames",
        "0",
        "--max-bytes",
        "0",
        "--max-seconds",
        "0",
        "--max-value-chars",
        "0",
    )
    assert result.meta["frames_dropped"] == 0
    assert result.meta["caps_fired"] == []
    assert "<cut" not in result.trace
    assert '"items": "' + repr(list(range(299))) + '"' in result.trace
