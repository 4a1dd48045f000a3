"""``nodefix validate``: check a deliverable parquet against the contract."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HELP = "check a deliverable; list every violation"
ORDER = 41


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("deliverable", metavar="DELIVERABLE", type=Path, help="the deliverable parquet")
    parser.add_argument(
        "--source",
        type=Path,
        metavar="SRC",
        help="the source dataset: every row must be there, with its values "
        "(default: the workspace's own dataset, when the workspace is found; for a merged file, "
        "the dataset the shards were split from)",
    )
    parser.add_argument(
        "--workspace",
        type=Path,
        action="append",
        metavar="DIR",
        help="the workspace whose traces cwm_analysis quotes and whose annotations the file must match; "
        "repeat it for a merged file's shard workspaces, each row checked against the one holding it "
        "(default: the ones it was exported or merged from, those found)",
    )


def run(args: argparse.Namespace) -> int:
    from tracer_adapter.verbatim import check_analysis
    from workspace.validate import check_deliverable

    found = check_deliverable(args.deliverable, args.source, args.workspace, check_quotes=check_analysis)
    for violation in found.violations:
        print(f"{args.deliverable}: {violation}")
    note = found.note()
    if note:
        print(note, file=sys.stderr)
    if found.violations:
        print(f"{len(found.violations)} violation(s)", file=sys.stderr)
        return 1
    print(f"{args.deliverable}: ok")
    return 0
