"""Trace browser figures on a generated 1,000,000-frame trace, beside a 1,000-frame one.

    .venv/bin/python bench/bench_trace_browser.py [--frames 1000000] [--workdir DIR]

Prints, for each size: building the index (first open of a fresh trace, the
tracer-data helper's code), opening it in the browser (loading the saved
index plus the first paint, in a ``run_test`` app), page down x200 (time per
page), jump to the first exception, find forward, a kind filter and a fold,
and the process's peak memory. The two sizes run side by side so the ratio
shows what grows with the trace.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import psutil
from textual.app import App, ComposeResult

from tracer_adapter.trace_index import TraceIndex, index_path
from tui.widgets.trace_browser import TraceBrowser

PAGES = 200
CODE = """def step(state, i):
    total = state["total"] + i
    state["total"] = total
    return total

def main(): # << START_OF_TRACE
    state = {"total": 0, "name": "run"}
    for i in range(N):
        step(state, i)
    raise ValueError(state["total"])
"""


def write_trace(path: Path, frames: int) -> None:
    """A CWM trace of CODE: a loop calling ``step`` (5 frames each), ending in a ValueError."""
    iterations = max(1, (frames - 6) // 6)
    with open(path, "w", encoding="utf-8") as out:
        write = out.write
        write("<|frame_sep|><|call_sep|>{}<|action_sep|>def main(): # << START_OF_TRACE\n")
        write('<|frame_sep|><|line_sep|>{}<|action_sep|>    state = {"total": 0, "name": "run"}\n')
        total = 0
        chunk: list[str] = []
        for i in range(iterations):
            state = json.dumps(repr({"total": total, "name": "run"}))
            main_locals = f'{{"state": {state}, "i": "{i}"}}'
            step_locals = f'{{"state": {state}, "i": "{i}"}}'
            chunk.append(f"<|frame_sep|><|line_sep|>{main_locals}<|action_sep|>    for i in range(N):\n")
            chunk.append(f"<|frame_sep|><|line_sep|>{main_locals}<|action_sep|>        step(state, i)\n")
            chunk.append(f"<|frame_sep|><|call_sep|>{step_locals}<|action_sep|>def step(state, i):\n")
            chunk.append(f'<|frame_sep|><|line_sep|>{step_locals}<|action_sep|>    total = state["total"] + i\n')
            total += i
            chunk.append(
                f'<|frame_sep|><|line_sep|>{{"state": {state}, "i": "{i}", "total": "{total}"}}'
                f'<|action_sep|>    state["total"] = total\n'
            )
            chunk.append(f'<|frame_sep|><|return_sep|><|action_sep|>    return total\n<|arg_sep|>"{total}"')
            if len(chunk) > 60_000:
                write("".join(chunk))
                chunk.clear()
        write("".join(chunk))
        state = json.dumps(repr({"total": total, "name": "run"}))
        write(
            f'<|frame_sep|><|line_sep|>{{"state": {state}, "i": "{iterations - 1}"}}<|action_sep|>'
            f'    raise ValueError(state["total"])\n'
        )
        write(
            f'<|frame_sep|><|exception_sep|><|action_sep|>    raise ValueError(state["total"])\n'
            f"<|arg_sep|>\"(<class 'ValueError'>, ValueError({total}), <traceback object at 0xADDR>)\""
            f'<|frame_sep|><|return_sep|><|action_sep|>    raise ValueError(state["total"])\n'
            f'<|arg_sep|>"None"<|frame_sep|>'
        )


class BenchApp(App):
    def compose(self) -> ComposeResult:
        yield TraceBrowser()


async def settle(pilot) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def measure(trace: Path) -> dict[str, float]:
    figures: dict[str, float] = {}
    index_path(trace).unlink(missing_ok=True)
    started = time.perf_counter()
    TraceIndex.open(trace).close()
    figures["build index (s)"] = time.perf_counter() - started
    app = BenchApp()
    async with app.run_test(size=(80, 24)) as pilot:
        browser = app.query_one(TraceBrowser)
        browser.focus()
        await pilot.pause()
        started = time.perf_counter()
        index = TraceIndex.open(trace)
        browser.set_index(index)
        await pilot.pause()
        figures["open: load index + first paint (s)"] = time.perf_counter() - started
        figures["lines"] = len(index)
        figures["RSS after open (MB)"] = psutil.Process().memory_info().rss / 1e6
        browser.scroll_to(y=len(index) // 2, animate=False)  # lines not rendered yet: nothing cached
        started = time.perf_counter()
        for y in range(browser.size.height):
            browser.render_line(y)
        figures["render an uncached page (ms)"] = (time.perf_counter() - started) * 1000
        await pilot.press("home")
        started = time.perf_counter()
        for _ in range(PAGES):
            await pilot.press("pagedown")
        await pilot.pause()
        figures["page down, key to screen (ms per page)"] = (time.perf_counter() - started) / PAGES * 1000
        started = time.perf_counter()
        for _ in range(PAGES):
            browser.action_page(1)
            for y in range(browser.size.height):
                browser.render_line(y)
        figures["page down, browser's own work (ms per page)"] = (time.perf_counter() - started) / PAGES * 1000
        started = time.perf_counter()
        await pilot.press("E")
        await pilot.pause()
        figures["jump to first exception (ms)"] = (time.perf_counter() - started) * 1000
        assert "<|exception_sep|>" in browser.raw_line(browser.cursor_line)
        await pilot.press("home")
        started = time.perf_counter()
        browser.search("ValueError(")
        await pilot.pause()
        figures["find near the end (ms)"] = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        browser.set_filter(frozenset({"exception"}), "")
        await settle(pilot)
        figures["filter to exceptions (s)"] = time.perf_counter() - started
        started = time.perf_counter()
        browser.set_filter(frozenset({"line"}), "")  # the worst case: most lines pass
        await settle(pilot)
        figures["filter to line events, in a worker (s)"] = time.perf_counter() - started
        browser.set_filter(frozenset(), "")
        await settle(pilot)
        await pilot.press("home")
        started = time.perf_counter()
        await pilot.press("enter")
        await settle(pilot)
        figures["fold main (s)"] = time.perf_counter() - started
        assert browser.row_count == 3, browser.row_count  # the call, its return, the closing value
        index.close()
    figures["peak RSS (MB)"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-trace-"))
    workdir.mkdir(parents=True, exist_ok=True)
    results = {}
    for frames in (1_000, args.frames):
        trace = workdir / f"trace-{frames}.trace"
        if not trace.exists():
            started = time.perf_counter()
            write_trace(trace, frames)
            print(
                f"wrote {trace} ({trace.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - started:.1f} s",
                file=sys.stderr,
            )
        results[frames] = asyncio.run(measure(trace))
    small, big = results[1_000], results[args.frames]
    print(f"{'figure':46} {'1,000 frames':>14} {f'{args.frames:,} frames':>18} {'ratio':>8}")
    for name in big:
        ratio = big[name] / small[name] if small[name] else float("nan")
        print(f"{name:46} {small[name]:14.3f} {big[name]:18.3f} {ratio:8.1f}")


if __name__ == "__main__":
    main()
