"""Runs on this machine, ``jobs`` at a time in worker threads."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path

from runner.execute import execute
from runner.executors import Task
from runner.spec import RunResult, RunSpec
from workspace.config import RunSettings


class LocalExecutor:
    name = "local"

    def __init__(self, jobs: int, run_dir: Callable[[str], Path]) -> None:
        if jobs < 1:
            raise ValueError(f"jobs must be at least 1, not {jobs}")
        self.jobs = jobs
        self._run_dir = run_dir  # a fresh folder for a row's run; called in the calling thread

    def run(self, tasks: list[Task], settings: RunSettings, stop: threading.Event) -> Iterator[tuple[str, RunResult]]:
        queue = iter(tasks)
        running: dict[Future, str] = {}
        with ThreadPoolExecutor(max_workers=self.jobs, thread_name_prefix="replicate") as pool:
            try:
                while True:
                    while len(running) < self.jobs and not stop.is_set():
                        task = next(queue, None)
                        if task is None:
                            break
                        spec = RunSpec(task.code, task.competition_id, settings, self._run_dir(task.row_id))
                        running[pool.submit(execute, spec, cancel=stop, recorded_output=task.recorded_output)] = (
                            task.row_id
                        )
                    if not running:
                        break
                    finished, _ = wait(running, return_when=FIRST_COMPLETED)
                    for future in finished:
                        yield running.pop(future), future.result()
            except BaseException:
                # a failure, Ctrl-C or the caller closing the generator: cancel the runs still going
                # before the pool waits for them
                stop.set()
                raise
