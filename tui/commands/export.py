"""``nodefix export``: write the deliverable parquet of a workspace."""

from __future__ import annotations

import argparse
from pathlib import Path

from tui.commands._target import add_target_arguments
from workspace.vocabulary import STATUSES

HELP = "write the deliverable parquet: one row per debug step"
ORDER = 40
DESCRIPTION = (
    "Write the deliverable parquet: every source row, whatever its status (untouched and in_progress rows too), "
    "one output row per debug step, with all source columns and the annotation columns (bug_confirmed, bug_fixed, "
    "revised_analysis, revised_plan, cwm_analysis, debug_step, status, reject_reason, ...). "
    "Leave rows out by status with --only, e.g. --only done,rejected. The file is replaced atomically."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = DESCRIPTION
    add_target_arguments(parser)
    parser.add_argument("--out", required=True, type=Path, metavar="FILE", help="the deliverable parquet to write")
    parser.add_argument(
        "--only",
        metavar="STATUS,...",
        help=f"export only rows with these statuses, comma-separated: {', '.join(STATUSES)} (default: every row)",
    )


def run(args: argparse.Namespace) -> int:
    from tui.commands._target import open_target
    from workspace.export import export_deliverable

    only = parse_statuses(args.only) if args.only is not None else None
    with open_target(args) as ws:
        summary = export_deliverable(ws, args.out, only)
    left_out = f", {summary.left_out} left out by --only" if args.only is not None else ""
    print(f"wrote {summary.rows} rows ({summary.source_rows} source rows{left_out}) to {summary.path}")
    return 0


def parse_statuses(text: str) -> set[str]:
    from workspace.errors import InputError

    words = {word.strip() for word in text.split(",") if word.strip()}
    unknown = sorted(words - set(STATUSES))
    if unknown or not words:
        raise InputError(
            f"--only {text}: "
            + (f"unknown status {unknown[0]!r}" if unknown else "no status given")
            + f" (statuses: {', '.join(STATUSES)})"
        )
    return words
