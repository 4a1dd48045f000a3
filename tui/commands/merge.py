"""``nodefix merge``: the annotated shard workspaces back into one deliverable of the source dataset.

The deliverable's metadata lists the workspaces read, so ``nodefix validate`` finds them (while they stay put).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HELP = "merge annotated shards into one deliverable parquet"
ORDER = 71


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "workspaces",
        type=Path,
        nargs="+",
        metavar="WORKSPACE",
        help="the shards' workspace folders, or the shard parquets (their workspaces beside them)",
    )
    parser.add_argument("--out", type=Path, required=True, metavar="FILE", help="the deliverable parquet to write")
    parser.add_argument(
        "--source", type=Path, metavar="DATASET", help="the original dataset (default: the one the shards came from)"
    )
    parser.add_argument(
        "--prefer", type=Path, metavar="WORKSPACE", help="on a row annotated in two workspaces, keep this one's"
    )


def run(args: argparse.Namespace) -> int:
    from workspace.shards import MergeRefused, merge_deliverables

    try:
        summary = merge_deliverables(args.workspaces, args.out, args.source, args.prefer)
    except MergeRefused as refused:
        for line in refused.lines:
            print(line, file=sys.stderr)
        return 2
    kept = f"; {summary.conflicts_resolved} conflict(s) resolved by --prefer" if summary.conflicts_resolved else ""
    print(f"wrote {summary.rows} rows ({summary.source_rows} source rows) to {summary.path}{kept}")
    return 0
