"""Replication on a busy machine: the demo under ``replicate --jobs 2`` beside one CPU-bound process.

    .venv/bin/python bench/bench_replicate_load.py [--demo DIR] [--jobs 2]

Replicates the bundled demo twice in one run, side by side in time: with the
thread budget off (``run.threads = -1``: no OMP/MKL/... variables, no CPU
pinning, the libraries' own defaults: the "before") and on (the default: an
even share of the CPUs per job, pinned: the "after"), each beside one
process that spins on a CPU the whole time. Prints, per setting, whether
every verdict is the catalogued one, how many time limits were starved, and
the wall and CPU seconds of every row, as JSON lines.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from demo.builder import build_demo, demo_paths, is_built  # noqa: E402
from demo.catalogue import ROWS  # noqa: E402
from runner.replicate import replicate  # noqa: E402
from workspace.config import load_config  # noqa: E402
from workspace.store import open_workspace  # noqa: E402

SETTINGS = {"budget off (before)": -1, "budget on (after)": 0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo", type=Path, help="a built demo folder (default: a fresh one)")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="nodefix-bench-") as tmp:
        demo = args.demo or Path(tmp) / "demo"
        if not is_built(demo):
            build_demo(demo)
        paths = demo_paths(demo)
        print(json.dumps({"cpus": len(os.sched_getaffinity(0)), "load_before": os.getloadavg()[0], "jobs": args.jobs}))
        verdicts = {row.id: row.rerun_verdict for row in ROWS}
        config = load_config(paths.dataset)
        blas = _blas_dataset(Path(tmp), paths.dataset)
        for dataset, expected in ((paths.dataset, verdicts.get), (blas, lambda _: "clean")):
            for name, threads in SETTINGS.items():
                workspace = Path(tmp) / f"{dataset.stem}-{name}"
                figures = _replicate_beside_a_hog(dataset, config, workspace, threads, args.jobs, expected)
                print(json.dumps(figures))


# BLAS-bound rows (numpy's matrix products run on OpenBLAS/MKL threads), where oversubscription shows.
BLAS_ROW = """
import numpy as np
a = np.random.default_rng(0).normal(size=(600, 600))
for _ in range(40):
    a = np.tanh(a @ a / 600)
open("submission.csv", "w").write("id,target\\n1,%f\\n" % a.sum())
"""


def _blas_dataset(folder: Path, demo: Path) -> Path:
    """Six BLAS-bound rows of the demo's first competitions, in ``folder``."""
    import pyarrow.parquet as pq

    table = pq.read_table(demo).slice(0, 6)
    codes = [BLAS_ROW] * len(table)
    ids = [f"blas-{i}" for i in range(len(table))]
    table = table.set_column(table.schema.get_field_index("code"), "code", [codes])
    table = table.set_column(table.schema.get_field_index("id"), "id", [ids])
    path = folder / "blas.parquet"
    pq.write_table(table, path)
    return path


def _replicate_beside_a_hog(dataset: Path, config, workspace: Path, threads: int, jobs: int, expected) -> dict:
    config = dataclasses.replace(config, run=dataclasses.replace(config.run, threads=threads))
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    started = time.monotonic()
    try:
        with open_workspace(dataset, workspace) as ws:
            replicate(ws, config, jobs)
            runs = {row_id: ws.latest_replication(row_id) for row_id in ws.dataset.ids}
    finally:
        hog.kill()
        hog.wait()
    kinds = {row_id: run.kind for row_id, run in runs.items()}
    wrong = {row_id: kind for row_id, kind in kinds.items() if kind != expected(row_id)}
    rows = {
        row_id[:8]: [run.kind, run.resources["wall_seconds"], run.resources["cpu_seconds"]]
        for row_id, run in runs.items()
    }
    return {
        "dataset": dataset.name,
        "setting": f"threads={threads}",
        "total_wall_seconds": round(time.monotonic() - started, 1),
        "verdicts_right": len(runs) - len(wrong),
        "rows": len(runs),
        "wrong": wrong,
        "starved": sum(1 for run in runs.values() if run.verdict.starved),
        "row_kind_wall_cpu": rows,
    }


if __name__ == "__main__":
    main()
