"""Replication throughput: rows per second for short rows at --jobs 1 and --jobs 4, side by side.

    .venv/bin/python bench/bench_replicate.py [--rows N] [--backend B]

The rows are short scripts over the demo's competition data (made by the
demo's data maker): a third write a submission, a third raise a KeyError,
a third print and forget the submission. Both batches replicate the same
dataset into fresh workspaces in one run, so the ratio compares like with like.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

from demo.data_maker import write_competition_data  # noqa: E402
from runner.backends import get_backend  # noqa: E402
from runner.replicate import replicate  # noqa: E402
from workspace.config import Config, RunSettings  # noqa: E402
from workspace.store import open_workspace  # noqa: E402

COMPETITION = "spaceship-titanic"
SCRIPTS = (
    "import csv\nrows = list(csv.DictReader(open('./data/train.csv')))\n"
    "with open('submission.csv', 'w') as f:\n    f.write('PassengerId,Transported\\n')\nprint(len(rows), {i})\n",
    "import csv\nrows = list(csv.DictReader(open('./data/train.csv')))\nprint(rows[0]['target_{i}'])\n",
    "import csv\nrows = list(csv.DictReader(open('./data/train.csv')))\nprint('trained', len(rows), {i})\n",
)


def write_dataset(path: Path, n_rows: int) -> Path:
    codes = [SCRIPTS[i % len(SCRIPTS)].format(i=i) for i in range(n_rows)]
    table = pa.table(
        {
            "id": [f"bench-{i}" for i in range(n_rows)],
            "plan": ["bench row"] * n_rows,
            "competition_id": [COMPETITION] * n_rows,
            "analysis": [""] * n_rows,
            "code": codes,
            "_term_out": [["Execution time: a moment seconds (time limit is an hour)."]] * n_rows,
            "exec_time": [0.1] * n_rows,
        }
    )
    pq.write_table(table, path)
    return path


def measure(dataset: Path, workspace: Path, config: Config, jobs: int, executor=None) -> tuple[float, Counter]:
    ws = open_workspace(dataset, workspace)
    try:
        started = time.perf_counter()
        counts = replicate(ws, config, jobs, executor=executor)
        return time.perf_counter() - started, counts
    finally:
        ws.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50)
    parser.add_argument("--backend", default="auto")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-replicate-") as tmp:
        folder = Path(tmp)
        write_competition_data(folder / "data")
        dataset = write_dataset(folder / "bench.parquet", args.rows)
        config = Config(run=RunSettings(backend=args.backend, data_root=folder / "data", time_limit=60.0))
        backend = get_backend(config.run).name
        print(f"replicate throughput: {args.rows} short rows, backend {backend}, {os.cpu_count()} cores")
        results = {}
        for jobs in (1, 4):
            seconds, counts = measure(dataset, folder / f"ws-jobs{jobs}", config, jobs)
            results[jobs] = args.rows / seconds
            verdicts = ", ".join(f"{kind} {n}" for kind, n in sorted(counts.items()))
            print(f"  --jobs {jobs}: {seconds:6.2f} s  {results[jobs]:6.1f} rows/s  ({verdicts})")
        print(f"  ratio jobs 4 / jobs 1: {results[4] / results[1]:.2f}x")


if __name__ == "__main__":
    main()
