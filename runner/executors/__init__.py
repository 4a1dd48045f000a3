"""Where a batch's runs execute: on this machine (``local``) or as Slurm jobs (``slurm``).

An executor takes prepared runs (``runner.bookkeeping.prepare_run``), pulled
lazily from an iterable in the calling thread, and yields ``(run, RunResult)``
as runs finish, in the calling thread too, so the caller alone touches the
workspace. Setting ``stop`` cancels what is still running and yields nothing
more for it.
"""

from __future__ import annotations

import threading
from collections.abc import Generator, Iterable
from typing import Protocol

from runner.bookkeeping import PreparedRun
from runner.spec import RunResult


class Executor(Protocol):
    name: str

    def run(
        self, runs: Iterable[PreparedRun], stop: threading.Event
    ) -> Generator[tuple[PreparedRun, RunResult], None, None]:
        """Run every prepared run; yield each finished one (cancelled ones included, with ``cancelled`` set)."""
        ...
