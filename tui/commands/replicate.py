"""``nodefix replicate``: run every row's original code once and store the verdicts (pre-triage)."""

from __future__ import annotations

import argparse
import shlex
import sys
import threading
from functools import partial
from typing import TYPE_CHECKING

from tui.commands._cluster import (
    add_cluster_arguments,
    check_executor_installed,
    cluster_overrides,
    cluster_resume_words,
)
from tui.commands._target import add_target_arguments, add_time_limit_argument

if TYPE_CHECKING:
    from rich.progress import TaskID

HELP = "run every row's original code, N at a time; a rerun resumes"
ORDER = 51


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_target_arguments(parser)
    parser.add_argument("--jobs", "-j", type=int, default=1, metavar="N", help="runs at a time (default 1)")
    parser.add_argument(
        "--backend",
        metavar="B",
        help="sandbox backend: auto, bubblewrap, local or apptainer (default: from the config)",
    )
    add_time_limit_argument(parser, "seconds per run (default: from the config)")
    parser.add_argument(
        "--retry-starved",
        action="store_true",
        help="re-run exactly the rows whose time_limit verdict was starved of CPU",
    )
    add_cluster_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from runner.backends import get_backend
    from runner.executors.choose import make_executor
    from runner.replicate import replicate
    from tui.commands._target import checked_time_limit, ctrl_c_sets, open_target
    from workspace.config import load_config
    from workspace.errors import InputError

    if args.jobs < 1:
        raise InputError(f"--jobs must be at least 1, not {args.jobs}")
    checked_time_limit(args)
    ws = open_target(args)
    try:
        config = load_config(ws.dataset.path).with_overrides(
            run={"backend": args.backend, "time_limit": args.time_limit}, cluster=cluster_overrides(args)
        )
        check_executor_installed(config.cluster.executor)
        backend = get_backend(config.run)
        problem = backend.check(config.run)
        if problem is not None:
            raise InputError(f"run.backend: {backend.name} cannot run here: {problem}")
        for message in backend.notices(config.run):
            print(message, file=sys.stderr)
        console = Console(stderr=True)
        stop = threading.Event()
        notice = partial(console.print, markup=False, highlight=False)
        announce = partial(console.print, "Stopping: cancelling the running rows (Ctrl-C again to abort)...")
        executor = make_executor(config, args.jobs, ws.path, notice)
        with ctrl_c_sets(stop, announce), _ProgressBar(console) as bar:
            replicate(ws, config, args.jobs, bar.update, stop, retry_starved=args.retry_starved, executor=executor)
        _print_table(ws, Console())
        if stop.is_set():
            # plain print: the command must not be wrapped, users copy it
            print(f"Stopped. Finished rows are stored; resume with: {_resume_command(args)}", file=sys.stderr)
            return 130
        return 0
    finally:
        ws.close()


class _ProgressBar:
    """A rich progress bar fed by ``runner.replicate.Progress`` updates."""

    def __init__(self, console) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self._task: TaskID | None = None

    def __enter__(self) -> _ProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        self._bar.stop()  # also after a stop or a failure, so the terminal gets its cursor back

    def update(self, progress) -> None:
        if self._task is None:
            if progress.skipped:
                self._bar.console.print(f"{progress.skipped} rows already replicated: skipped")
            if not progress.total:
                return
            self._bar.start()
            self._task = self._bar.add_task("replicating", total=progress.total)
        last = f"{progress.row_id}: {progress.verdict}" if progress.row_id else "replicating"
        self._bar.update(self._task, completed=progress.done, description=last[:40])


def _print_table(ws, console) -> None:
    from rich.table import Table

    from runner.replicate import replication_table, starved_rows
    from runner.resources import run_starved
    from runner.verdict import describe_match

    kinds, matches = replication_table(ws)
    table = Table(title=f"Replication of {len(ws.dataset)} rows")
    table.add_column("verdict")
    table.add_column("rows", justify="right")
    for kind, count in kinds.most_common():
        table.add_row(str(kind), str(count))
    table.add_section()
    for match, count in matches.most_common():
        table.add_row(describe_match(match), str(count))
    console.print(table)
    starved = starved_rows(ws)
    for row_id in starved:
        console.print(f"{row_id}: time_limit, {run_starved(ws.latest_replication(row_id))}", markup=False)
    if starved:
        console.print(f"{len(starved)} starved rows: re-run them with --retry-starved", markup=False)


def _resume_command(args: argparse.Namespace) -> str:
    words = ["nodefix", "replicate", str(args.target)]
    if args.workspace is not None:
        words += ["--workspace", str(args.workspace)]
    words += ["--jobs", str(args.jobs)]
    if args.backend:
        words += ["--backend", args.backend]
    if args.time_limit is not None:
        words += ["--time-limit", f"{args.time_limit:g}"]
    if args.retry_starved:
        words.append("--retry-starved")
    words += cluster_resume_words(args)
    return shlex.join(words)
