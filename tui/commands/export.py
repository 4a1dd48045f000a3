"""``nodefix export``: write the deliverable parquet of a workspace."""

from __future__ import annotations

import argparse
from pathlib import Path

from tui.commands._target import add_target_arguments

HELP = "write the deliverable parquet: one row per debug step"
ORDER = 40


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_target_arguments(parser)
    parser.add_argument("--out", required=True, type=Path, metavar="FILE", help="the deliverable parquet to write")


def run(args: argparse.Namespace) -> int:
    from tui.commands._target import open_target
    from workspace.export import export_deliverable

    with open_target(args) as ws:
        summary = export_deliverable(ws, args.out)
    print(f"wrote {summary.rows} rows ({summary.source_rows} source rows) to {summary.path}")
    return 0
