"""Batch replication: run every row's recorded code once, a few at a time, and store each verdict.

Rows that already have a finished replication are skipped, so a stopped
batch resumes where it left off (rows whose sandbox failed are run again). Setting ``stop`` cancels the running runs
(nothing is stored for them) and starts no new ones. Runs execute where the
executor puts them (worker threads here, or Slurm jobs); the workspace is only
touched from the calling thread.
"""

from __future__ import annotations

import contextlib
import shutil
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from runner import bookkeeping
from runner.executors import Executor
from runner.executors.local import LocalExecutor
from runner.limits import budget_for_jobs
from runner.resources import run_starved
from workspace.config import Config
from workspace.errors import InputError
from workspace.records import RunRecord

if TYPE_CHECKING:
    from workspace.store import Workspace

PURPOSE = "replicate"
UNFINISHED = ("environment", "cancelled")  # verdicts that say nothing about the code


@dataclass(frozen=True)
class Progress:
    """Where a batch stands; sent once before the first run and after every finished one."""

    done: int  # runs finished and stored in this batch
    total: int  # runs this batch has to do (rows without a finished replication)
    skipped: int  # rows replicated before, not run again
    row_id: str | None = None  # the row that just finished
    verdict: str | None = None  # its verdict kind


def pending_rows(ws: Workspace) -> list[str]:
    """Row ids, in file order, without a finished replication.

    A run whose sandbox failed (verdict ``environment``) replicated nothing,
    so its row is run again once the environment is put right.
    """
    return [row_id for row_id in ws.dataset.ids if not _replicated(ws.latest_replication(row_id))]


def starved_rows(ws: Workspace) -> list[str]:
    """Row ids whose latest replication reached the time limit starved of CPU."""
    return [row_id for row_id in ws.dataset.ids if run_starved(ws.latest_replication(row_id))]


def _replicated(run: RunRecord | None) -> bool:
    return run is not None and run.kind not in UNFINISHED


def replicate(
    ws: Workspace,
    config: Config,
    jobs: int,
    progress: Callable[[Progress], None] | None = None,
    stop: threading.Event | None = None,
    retry_starved: bool = False,
    executor: Executor | None = None,
) -> Counter:
    """Replicate every row not replicated yet (with ``retry_starved``: exactly the starved ones), ``jobs`` at a time.

    The runs go to ``executor``, by default worker threads on this machine
    (``runner.executors.local``: each run pinned to its share of the CPUs and
    GPUs). Returns the verdict kinds of the runs stored.
    """
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, not {jobs}")
    stop = stop or threading.Event()
    todo = starved_rows(ws) if retry_starved else pending_rows(ws)
    skipped = len(ws.dataset) - len(todo)
    report = progress or (lambda _: None)
    report(Progress(0, len(todo), skipped))
    counts: Counter = Counter()
    local = executor is None
    # N runs side by side never hold more than this machine; a node sizes its own share
    settings = budget_for_jobs(config.run, jobs) if local else config.run
    executor = executor or LocalExecutor(jobs, settings)
    prepared = (bookkeeping.prepare_run(ws, row_id, 0, PURPOSE, settings) for row_id in todo)
    # closing: a failure here cancels the executor's runs still going
    with contextlib.closing(executor.run(prepared, stop)) as results:
        for run, result in results:
            if result.cancelled:
                shutil.rmtree(result.run_dir, ignore_errors=True)
                continue
            try:
                bookkeeping.record(ws, run, result)
            except InputError:  # the row was opened in another process meanwhile: its run is not stored
                counts["claimed"] += 1
                continue
            counts[result.verdict.kind] += 1
            report(Progress(sum(counts.values()), len(todo), skipped, run.row_id, result.verdict.kind))
    return counts


def replication_table(ws: Workspace) -> tuple[Counter, Counter]:
    """Over all rows: the latest replication's verdict kinds, and their matches with the recorded output."""
    kinds: Counter = Counter()
    matches: Counter = Counter()
    for row_id in ws.dataset.ids:
        run = ws.latest_replication(row_id)
        if run is None:
            kinds["not replicated"] += 1
            continue
        kinds[run.kind] += 1
        if run.match:
            matches[run.match] += 1
    return kinds, matches
