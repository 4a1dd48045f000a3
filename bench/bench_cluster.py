"""Slurm against local: replicate throughput of 50 short demo rows, --jobs 2 here and 2 Slurm slots, in one run.

    .venv/bin/python bench/bench_cluster.py [--rows N] [--slots S] [--nodes 1,2,4,8]

Needs the one-node cluster of .ci/slurm_up.sh. The rows are the demo's rows
that end in seconds (its time-limit row, recorded as a TimeoutError, left out), repeated under new ids.
Both batches replicate the same dataset into fresh workspaces, one after the
other, so the Slurm overhead per row is (slurm seconds - local seconds) x slots
/ rows. Then, on paper: rows/hour and hours for 10,000 rows on K nodes of S
slots, at the demo's recorded exec_time distribution and at the worst case
(every row runs to the 6-minute limit), each row costing its exec_time plus
the measured per-row cost of a local run beyond it plus the Slurm overhead.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402
from bench_replicate import measure  # noqa: E402

from demo import build_demo  # noqa: E402
from runner.executors.slurm import SlurmExecutor  # noqa: E402
from workspace.config import ClusterSettings, load_config  # noqa: E402

PAPER_ROWS = 10_000
CLIENT_LIMIT = 360.0


def short_rows(demo_dataset: Path, n_rows: int, out: Path) -> Path:
    table = pq.read_table(demo_dataset)
    outputs = table.column("_term_out").to_pylist()
    short = [i for i, lines in enumerate(outputs) if "TimeoutError" not in "".join(lines or [])]
    picks = list(itertools.islice(itertools.cycle(short), n_rows))
    rows = table.take(pa.array(picks, pa.int64()))
    ids = [f"{row_id}-{n}" for n, row_id in enumerate(rows.column("id").to_pylist())]
    pq.write_table(rows.set_column(rows.schema.get_field_index("id"), "id", pa.array(ids)), out)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50)
    parser.add_argument("--slots", type=int, default=2, help="local --jobs and Slurm array parallelism")
    parser.add_argument("--nodes", default="1,2,4,8,16", help="node counts for the paper figures")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as tmp:
        folder = Path(tmp)
        demo = build_demo(folder / "demo")
        dataset = short_rows(demo.dataset, args.rows, folder / "demo" / "short.parquet")
        config = load_config(dataset)
        recorded = [t for t in pq.read_table(demo.dataset).column("exec_time").to_pylist() if t is not None]
        short_exec = sum(pq.read_table(dataset).column("exec_time").to_pylist()) / args.rows
        print(f"replicate {args.rows} short demo rows, {args.slots} slots, {os.cpu_count()} cores (machine shared)")
        local_s, local_counts = measure(dataset, folder / "local.nodefix", config, args.slots)
        executor = SlurmExecutor(ClusterSettings(executor="slurm"), args.slots, folder / "shared")
        slurm_s, slurm_counts = measure(dataset, folder / "slurm.nodefix", config, args.slots, executor)
        assert local_counts == slurm_counts, (local_counts, slurm_counts)
        for name, seconds in (("local --jobs", local_s), ("slurm slots ", slurm_s)):
            rate = args.rows / seconds * 3600
            print(f"  {name} {args.slots}: {seconds:6.1f} s  {rate:7.0f} rows/hour")
        overhead = max(0.0, (slurm_s - local_s) * args.slots / args.rows)
        run_cost = max(0.0, local_s * args.slots / args.rows - short_exec)  # sandbox start, capture, classify
        print(f"  slurm / local time: {slurm_s / local_s:.2f}x; Slurm overhead {overhead:.2f} s per row")
        print(f"  local cost per row beyond its recorded exec_time ({short_exec:.2f} s): {run_cost:.2f} s")
        mean_recorded = sum(min(t, CLIENT_LIMIT) for t in recorded) / len(recorded)
        per_row = run_cost + overhead
        print(f"\non paper: {PAPER_ROWS} rows, {args.slots} slots per node, per row exec_time + {per_row:.1f} s")
        for label, mean in (
            (f"demo's recorded exec_time (mean {mean_recorded:.1f} s)", mean_recorded),
            (f"every row to the {CLIENT_LIMIT:.0f} s limit", CLIENT_LIMIT),
        ):
            print(f"  {label}:")
            for nodes in (int(k) for k in args.nodes.split(",")):
                rate = nodes * args.slots * 3600 / (mean + per_row)
                print(f"    K={nodes:<3} {rate:9.0f} rows/hour  {PAPER_ROWS / rate:7.1f} hours")


if __name__ == "__main__":
    main()
