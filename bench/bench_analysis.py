"""Crash site and draft build times on a 20,000-frame trace (the default frame budget, filled).

    .venv/bin/python bench/bench_analysis.py [--iterations 20000]

Traces a loop that calls a helper on every iteration and raises at the end,
with the built-in tracer's default budgets (so the trace holds 20,000 frames,
cut in the middle), then times building the index once and, on the built
index, the crash site and the draft (best of 5). Goal: each under 200 ms.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tracer_adapter.crash_site import crash_site  # noqa: E402
from tracer_adapter.draft import draft_analysis  # noqa: E402
from tracer_adapter.trace_index import TraceIndex, code_path  # noqa: E402

SCRIPT = """
def step(state, i):
    state["total"] += i
    return state["total"]


def main():  # << START_OF_TRACE
    state = {"total": 0, "seen": []}
    for i in range(ITERATIONS):
        step(state, i)
    return state["missing"]


main()
"""


def best_ms(work, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--iterations", type=int, default=20000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_analysis_") as folder:
        work = Path(folder)
        script = work / "loop.py"
        script.write_text(textwrap.dedent(SCRIPT).replace("ITERATIONS", str(args.iterations)))
        trace = work / "loop.trace"
        tracer = ROOT / "tracer_adapter" / "cwm_tracer.py"
        argv = [sys.executable, str(tracer), script.name, "--out", str(trace), "--meta", str(work / "meta.json")]
        subprocess.run(argv, cwd=work, capture_output=True)
        code_path(trace).write_text(script.read_text())
        started = time.perf_counter()
        index = TraceIndex.open(trace)
        built = (time.perf_counter() - started) * 1000
        with index:
            site_ms = best_ms(lambda: crash_site(index))
            draft_ms = best_ms(lambda: draft_analysis(index))
            print(f"trace: {index.frame_count:,} frames, {len(index):,} lines, {index.size / 1e6:.1f} MB")
            print(f"index build (once, saved beside the trace): {built:.0f} ms")
            print(f"crash site: {site_ms:.1f} ms   draft: {draft_ms:.1f} ms   (goal: under 200 ms each)")
            print(f"crash site says: {crash_site(index).lines()[1].strip()}")


if __name__ == "__main__":
    main()
