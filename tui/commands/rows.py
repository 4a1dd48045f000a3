"""``nodefix rows``: list a dataset's rows with their annotation status."""

from __future__ import annotations

import argparse
import sys

from tui.commands._target import add_target_arguments
from workspace.vocabulary import STATUSES

HELP = "list rows with status, verdict, steps and time spent"
ORDER = 30


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_target_arguments(parser)
    parser.add_argument("--status", choices=STATUSES, help="only rows with this status")
    parser.add_argument("--competition", metavar="C", help="only rows of this competition")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def run(args: argparse.Namespace) -> int:
    import json
    from dataclasses import asdict

    from tui.commands._target import open_target

    with open_target(args) as ws:
        rows = [
            r
            for r in ws.summaries()
            if (args.status is None or r.status == args.status)
            and (args.competition is None or r.competition_id == args.competition)
        ]
    if args.json:
        print(json.dumps([asdict(r) for r in rows], indent=1))
        return 0
    header = ("id", "competition", "status", "verdict", "steps", "time")
    widths = [
        max([len(header[0]), *(len(r.id) for r in rows)]),
        max([len(header[1]), *(len(r.competition_id) for r in rows)]),
        max([len(header[2]), *(len(_status(r)) for r in rows)]),
        max([len(header[3]), *(len(r.verdict or "-") for r in rows)]),
        5,
    ]
    template = "  ".join(f"{{:<{width}}}" for width in widths) + "  {}"
    out = sys.stdout
    out.write(template.format(*header).rstrip() + "\n")
    for start in range(0, len(rows), _LINES_PER_WRITE):  # a million rows: written as they are formatted
        out.write(
            "".join(
                template.format(
                    r.id, r.competition_id, _status(r), r.verdict or "-", r.n_steps, format_duration(r.time_spent)
                )
                + "\n"
                for r in rows[start : start + _LINES_PER_WRITE]
            )
        )
    return 0


_LINES_PER_WRITE = 10_000


def _status(r) -> str:
    status = f"{r.status} ({r.reject_reason})" if r.reject_reason else r.status
    return status + " [claimed]" if r.claimed_by else status


def format_duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds // 60 % 60:02d}m"
