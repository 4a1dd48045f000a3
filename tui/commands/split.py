"""``nodefix split``: deal a dataset into N shard folders, one per annotator or GPU box."""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "split a dataset into N balanced shards for a team"
ORDER = 70


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dataset", type=Path, help="the dataset parquet")
    parser.add_argument("--parts", "-n", type=int, required=True, metavar="N", help="how many shards")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder for part-1 ... part-N")


def run(args: argparse.Namespace) -> int:
    from workspace.shards import split_dataset

    shards = split_dataset(args.dataset, args.parts, args.out)
    for shard in shards:
        print(f"part {shard.part}: {shard.rows} rows, {shard.exec_seconds:.0f} s recorded exec_time -> {shard.path}")
    return 0
