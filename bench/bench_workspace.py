#!/usr/bin/env python3
"""Workspace figures on the 10,000-row synthetic dataset, for ``_term_out`` as a list and as a string.

    python bench/bench_workspace.py [--rows 10000]

For each shape it builds the file with ``shared/bench/make_large_dataset.py``
in a temporary folder, then, in a fresh process (so peak memory is that
shape's own), measures: open + list all rows (cold, new workspace; then warm,
reopened), one row's full record (median of 100), annotating every row,
exporting the deliverable, validating it, and the peak memory so far after each.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

MAKE_DATASET = Path(__file__).resolve().parents[2] / "shared" / "bench" / "make_large_dataset.py"
TARGETS = {"list": 1.0, "record": 0.005, "export": 3.0}  # seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--make-dataset", type=Path, default=MAKE_DATASET, help="the dataset generator script")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)  # internal: measure one dataset
    args = parser.parse_args()
    if args.measure:
        return measure(args.measure)
    failed = False
    with tempfile.TemporaryDirectory(prefix="nodefix-bench-") as tmp:
        for shape in ("list", "str"):
            path = Path(tmp) / f"large-{shape}.parquet"
            subprocess.run(
                [sys.executable, str(args.make_dataset), str(path), "--rows", str(args.rows), "--term-out", shape],
                check=True,
                capture_output=True,
            )
            print(
                f"== _term_out as {shape}: {args.rows} rows, {path.stat().st_size / 2**20:.1f} MiB parquet "
                f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)",
                flush=True,
            )
            failed |= subprocess.run([sys.executable, __file__, "--measure", str(path)]).returncode != 0
    return 1 if failed else 0


class Figures:
    """Prints one line per figure: wall time, CPU time of this process meanwhile (the box may be busy), target."""

    def __init__(self) -> None:
        self.missed = 0

    def report(self, label: str, wall: float, cpu: float, target: float | None = None) -> None:
        verdict = ""
        if target is not None:
            verdict = f"  target < {_fmt(target)}: {'OK' if wall < target else 'MISSED'}"
            self.missed += wall >= target
        print(f"  {label:<44} {_fmt(wall):>9}  (cpu {_fmt(cpu):>9}, peak {_peak_mib():4.0f} MiB){verdict}", flush=True)

    @contextmanager
    def timed(self, label: str, target: float | None = None) -> Iterator[None]:
        wall, cpu = time.perf_counter(), time.process_time()
        yield
        self.report(label, time.perf_counter() - wall, time.process_time() - cpu, target)


def measure(path: Path) -> int:
    from workspace.export import export_deliverable
    from workspace.store import open_workspace
    from workspace.validate import validate_deliverable

    figures = Figures()
    with figures.timed("open + list all rows (cold, new workspace)", TARGETS["list"]):
        ws = open_workspace(path)
        ws.summaries()
    folder = ws.path
    ws.close()
    del ws  # a real session holds one workspace; let the first one's table go before reopening
    with figures.timed("open + list all rows (workspace reopened)", TARGETS["list"]):
        ws = open_workspace(folder)
        ws.summaries()

    ids = ws.dataset.ids
    walls, cpus = [], []
    for row_id in random.Random(0).sample(ids, 100):
        wall, cpu = time.perf_counter(), time.process_time()
        ws.source(row_id), ws.steps(row_id), ws.runs(row_id), ws.status(row_id), ws.claimed_by(row_id)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    figures.report(
        "one row's full record (median of 100)", statistics.median(walls), statistics.median(cpus), TARGETS["record"]
    )

    with figures.timed(f"annotate all {len(ids)} rows (one commit each)"):
        for i, row_id in enumerate(ids):
            source = ws.source(row_id)
            ws.update_step(
                row_id,
                0,
                bug_confirmed=True,
                fixable=i % 7 != 0,
                revised_analysis=f"The script fails because {source.analysis[:200]}",
                revised_plan=source.plan[:300],
                fixed_code=source.code.replace("./input/", "./data/"),
                cwm_analysis="The trace shows the failing read.",
            )
    with figures.timed(f"reject {len(ids[::5])} rows (one commit each)"):
        for row_id in ids[::5]:
            ws.set_status(row_id, "rejected", "not_buggy")

    out = path.with_name(path.stem + "-deliverable.parquet")
    with figures.timed(f"export {len(ids)} annotated rows", TARGETS["export"]):
        export_deliverable(ws, out)
    with figures.timed("validate the deliverable against the source"):
        violations = validate_deliverable(out, path)
    print(f"  ({len(violations)} violations)")
    ws.close()

    print(f"  {'peak memory (max RSS of this process)':<44} {_peak_mib():>5.0f} MiB", flush=True)
    return 1 if figures.missed else 0


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _fmt(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms" if seconds < 0.1 else f"{seconds:.2f} s"


if __name__ == "__main__":
    sys.exit(main())
