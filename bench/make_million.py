#!/usr/bin/env python3
"""Write a million-row dataset in the client's input format, for the large-dataset benchmark.

    python bench/make_million.py OUT.parquet [--rows 1000000] [--rows-per-group 65536]
                                 [--kind synthetic|demo] [--seed 0] [--pad-kib 0]

``synthetic``: 200 distinct rows made by ``shared/bench/make_large_dataset.py``'s
generators (scripts, tracebacks, prose), dealt out to the million rows, each row
with its own 32-hex id. ``demo``: the bundled demo's 14 rows (their real agent
code and recorded outputs, built in OUT's folder) repeated. Either way the file
is small (the values repeat, parquet dictionary-encodes them) but each row
decodes to kilobytes of text, as a client's file does.
``--rows-per-group 0`` writes one row group for the whole file (as ``pandas.to_parquet`` does).
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

SHARED_GENERATOR = Path(__file__).resolve().parents[2] / "shared" / "bench" / "make_large_dataset.py"
DISTINCT = 200


def synthetic_pool(seed: int) -> pa.Table:
    spec = importlib.util.spec_from_file_location("make_large_dataset", SHARED_GENERATOR)
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    rng = random.Random(seed)
    rows = []
    for _ in range(DISTINCT):
        code = gen.script(rng)
        rows.append(
            {
                "plan": gen.prose(rng, rng.randint(40, 300)),
                "competition_id": rng.choice(gen.COMPETITIONS),
                "analysis": gen.prose(rng, rng.randint(20, 120)),
                "code": code,
                "_term_out": gen.term_out(rng, code),
                "exec_time": round(rng.uniform(0.5, 300.0), 3),
            }
        )
    return pa.Table.from_pylist(rows)


def demo_pool(folder: Path) -> pa.Table:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from demo.builder import ensure_demo

    table = pq.read_table(ensure_demo(folder / "demo"))
    return table.drop_columns(["id"])


def padded(pool: pa.Table, kib: int) -> pa.Table:
    """Each row's code with a comment of ``kib`` KiB appended, for rows as big as a client's largest."""
    filler = "\n# " + "x" * (kib * 1024 - 3)
    code = pa.array([text + filler for text in pool.column("code").to_pylist()], pa.string())
    return pool.set_column(pool.schema.get_field_index("code"), "code", code)


def write(out: Path, pool: pa.Table, rows: int, rows_per_group: int, seed: int) -> None:
    rng = random.Random(seed + 1)
    group = rows_per_group or rows
    schema = pa.schema([pa.field("id", pa.string()), *pool.schema])
    with pq.ParquetWriter(out, schema) as writer:
        for start in range(0, rows, group):
            n = min(group, rows - start)
            ids = pa.array([f"{rng.getrandbits(128):032x}" for _ in range(n)], pa.string())
            picks = pa.array([rng.randrange(len(pool)) for _ in range(n)], pa.int64())
            chunk = pool.take(picks)
            writer.write_table(pa.Table.from_arrays([ids, *chunk.columns], schema=schema), row_group_size=group)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rows-per-group", type=int, default=65536, help="0: one row group for the whole file")
    parser.add_argument("--kind", choices=("synthetic", "demo"), default="synthetic")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pad-kib", type=int, default=0, help="append a comment of this many KiB to every code")
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    pool = synthetic_pool(args.seed) if args.kind == "synthetic" else demo_pool(args.out.parent)
    if args.pad_kib:
        pool = padded(pool, args.pad_kib)
    write(args.out, pool, args.rows, args.rows_per_group, args.seed)
    print(f"wrote {args.rows} {args.kind} rows to {args.out} ({args.out.stat().st_size / 2**20:.1f} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
