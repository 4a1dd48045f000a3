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
        summaries = ws.summaries()
        rows = list(summaries.of_rows(summaries.select(status=args.status, competition=args.competition).rows))
    if args.json:
        print(json.dumps([asdict(r) for r in rows], indent=1))
        return 0
    header = ("id", "competition", "status", "verdict", "steps", "time")
    widths = [len(name) for name in header[:4]]
    for r in rows:
        widths = [max(width, len(cell)) for width, cell in zip(widths, _cells(r), strict=False)]
    template = "  ".join(f"{{:<{width}}}" for width in [*widths, 5]) + "  {}"
    out = sys.stdout
    out.write(template.format(*header).rstrip() + "\n")
    for start in range(0, len(rows), _LINES_PER_WRITE):  # a million rows: written as they are formatted
        out.write("".join(template.format(*_cells(r)) + "\n" for r in rows[start : start + _LINES_PER_WRITE]))
    return 0


_LINES_PER_WRITE = 10_000


def _cells(r) -> tuple[str, ...]:
    """One table line, every text from the dataset or a run made safe for the terminal."""
    from workspace.terminal_text import one_line

    status = f"{r.status} ({r.reject_reason})" if r.reject_reason else r.status
    status += " [claimed]" if r.claimed_by else ""
    verdict = f"{r.verdict} ({r.starved})" if r.starved else r.verdict or "-"
    texts = (one_line(text) for text in (r.id, r.competition_id, status, verdict))
    return (*texts, str(r.n_steps), format_duration(r.time_spent))


def format_duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds // 60 % 60:02d}m"
