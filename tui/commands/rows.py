"""``nodefix rows``: list a dataset's rows with their annotation status."""

from __future__ import annotations

import argparse

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
    from workspace.terminal_text import one_line

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
    table = [("id", "competition", "status", "verdict", "steps", "time")]
    for r in rows:
        status = f"{r.status} ({r.reject_reason})" if r.reject_reason else r.status
        if r.claimed_by:
            status += " [claimed]"
        verdict = f"{r.verdict} ({r.starved})" if r.starved else r.verdict or "-"
        cells = (r.id, r.competition_id, status, verdict, str(r.n_steps), format_duration(r.time_spent))
        table.append(tuple(one_line(cell) for cell in cells))
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]))]
    for line in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=False)).rstrip())
    return 0


def format_duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds // 60 % 60:02d}m"
