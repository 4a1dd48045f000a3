"""Figures for the trace index on generated 1,000,000-frame CWM traces, each beside its target.

    .venv/bin/python bench/bench_trace_index.py [--frames N]

Two traces: compact frames, and frames whose caller carries a 1,000-char value
(as real traces carry lists and DataFrames cut at the value budget).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "tracer_data"))

from tracer_data_synthetic import write_synthetic_trace  # noqa: E402

from tracer_adapter.trace_index import TraceIndex, index_path  # noqa: E402
from tracer_adapter.verbatim import check_analysis  # noqa: E402


def _row(name: str, value: float, unit: str, target: float | None) -> None:
    verdict = "" if target is None else ("ok" if value < target else "OVER TARGET")
    bound = "" if target is None else f"< {target:g} {unit}"
    print(f"  {name:<38} {value:>9.4f} {unit:<3} {bound:<9} {verdict}")


def measure(folder: Path, frames: int, value_chars: int) -> None:
    trace = folder / f"bench-{value_chars}.trace"
    started = time.perf_counter()
    write_synthetic_trace(trace, frames, value_chars)
    generated = time.perf_counter() - started
    index_path(trace).unlink(missing_ok=True)
    process = psutil.Process()
    rss_before = process.memory_info().rss

    started, cpu_started = time.perf_counter(), time.process_time()
    with TraceIndex.open(trace) as index:
        build, build_cpu = time.perf_counter() - started, time.process_time() - cpu_started
        lines, frame_count = len(index), index.frame_count
    rss_build = process.memory_info().rss

    started = time.perf_counter()
    index = TraceIndex.open(trace)
    load = time.perf_counter() - started
    rss_loaded = process.memory_info().rss

    rng = random.Random(7)
    timings = []
    for i in (rng.randrange(lines) for _ in range(1000)):
        started = time.perf_counter()
        index.line(i)
        timings.append(time.perf_counter() - started)

    started = time.perf_counter()
    hit = index.find("<class 'ValueError'>")
    find = time.perf_counter() - started
    started = time.perf_counter()
    missing = index.find("text that is nowhere in the trace")
    find_missing = time.perf_counter() - started
    started = time.perf_counter()
    index.first_exception()
    index.next_source_line(4, 0)
    navigation = time.perf_counter() - started
    started = time.perf_counter()
    index.next_change("x", 4)  # x never changes inside one call of step: scans that call
    next_change_call = time.perf_counter() - started
    started = time.perf_counter()
    index.next_change("absent", 2)  # main's invocation spans the trace: scans it all
    next_change_all = time.perf_counter() - started
    deep = index.line(lines - 6)
    quoted = [index.line(lines // 2), deep, deep.replace('"y": "', '"y": "9')]
    started = time.perf_counter()
    problems = check_analysis("\n".join(quoted), [trace])
    verbatim = time.perf_counter() - started
    index.close()
    assert hit == lines - 4
    assert missing is None
    assert len(problems) == 1

    print(
        f"{frame_count:,} frames, {lines:,} lines, {trace.stat().st_size / 1e6:.0f} MB trace "
        f"(generated in {generated:.1f} s), {index_path(trace).stat().st_size / 1e6:.0f} MB saved index"
    )
    _row("build (one streaming pass)", build, "s", 10)
    _row("build, CPU time (for a busy machine)", build_cpu, "s", None)
    _row("load the saved index", load, "s", 0.2)
    _row("any line (median of 1,000 random)", statistics.median(timings) * 1000, "ms", 1)
    _row("find a text near the end", find, "s", 1)
    _row("find a text that is not there", find_missing, "s", 1)
    _row("first_exception + next_source_line", navigation, "s", None)
    _row("next_change within a call (no change)", next_change_call, "s", None)
    _row("next_change, worst case: whole trace", next_change_all, "s", None)
    _row("verbatim check, 3 lines (1 bad)", verbatim, "s", None)
    print(
        f"  RSS +{(rss_build - rss_before) / 2**20:.0f} MiB after the build, "
        f"+{(rss_loaded - rss_before) / 2**20:.0f} MiB with the loaded index open"
    )
    trace.unlink()
    index_path(trace).unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=1_000_000)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        for value_chars in (0, 1000):
            measure(Path(tmp), args.frames, value_chars)


if __name__ == "__main__":
    main()
