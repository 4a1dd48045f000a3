"""Runs on this machine, ``jobs`` at a time in worker threads, each pinned to its share of CPUs and GPUs."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Generator, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from runner import bookkeeping
from runner.bookkeeping import PreparedRun
from runner.devices import gpu_indices
from runner.run_env import budgets_threads, cpu_shares, gpu_shares
from runner.spec import RunResult
from workspace.config import RunSettings


class LocalExecutor:
    name = "local"

    def __init__(self, jobs: int, settings: RunSettings) -> None:
        """With more than one job each run gets its own share of the CPUs (and thread budget) and
        ``run.gpus_per_job`` GPUs round robin: a slot is one such share."""
        if jobs < 1:
            raise ValueError(f"jobs must be at least 1, not {jobs}")
        self.jobs = jobs
        self._cpus = cpu_shares(jobs) if jobs > 1 and budgets_threads(settings) else [None] * jobs
        self._gpus = gpu_shares(jobs, gpu_indices(settings) if settings.gpu else [], settings.gpus_per_job)

    def run(
        self, runs: Iterable[PreparedRun], stop: threading.Event
    ) -> Generator[tuple[PreparedRun, RunResult], None, None]:
        queue = iter(runs)
        running: dict[Future, tuple[PreparedRun, int]] = {}  # the run, and its slot
        free_slots = list(range(self.jobs))
        with ThreadPoolExecutor(max_workers=self.jobs, thread_name_prefix="replicate") as pool:
            try:
                while True:
                    while len(running) < self.jobs and not stop.is_set():
                        prepared = next(queue, None)
                        if prepared is None:
                            break
                        slot = free_slots.pop(0)
                        pinned = dataclasses.replace(
                            prepared,
                            spec=dataclasses.replace(prepared.spec, cpus=self._cpus[slot], gpus=self._gpus[slot]),
                        )
                        running[pool.submit(bookkeeping.start, pinned, cancel=stop)] = pinned, slot
                    if not running:
                        break
                    finished, _ = wait(running, return_when=FIRST_COMPLETED)
                    for future in finished:
                        prepared, slot = running.pop(future)
                        free_slots.append(slot)
                        yield prepared, future.result()
            except BaseException:
                # a failure, Ctrl-C or the caller closing the generator: cancel the runs still going
                # before the pool waits for them
                stop.set()
                raise
