"""Where a batch's runs execute: on this machine (``local``) or as Slurm jobs (``slurm``).

An executor takes the rows to run and yields ``(row_id, RunResult)`` as runs
finish, in the calling thread, so the caller alone touches the workspace.
Setting ``stop`` cancels what is still running and yields nothing more for it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from runner.spec import RunResult
from workspace.config import RunSettings


@dataclass(frozen=True)
class Task:
    """One row's run in a batch."""

    row_id: str
    code: str
    competition_id: str
    recorded_output: str | None


class Executor(Protocol):
    name: str

    def run(self, tasks: list[Task], settings: RunSettings, stop: threading.Event) -> Iterator[tuple[str, RunResult]]:
        """Run every task; yield each finished run (cancelled ones included, with ``cancelled`` set)."""
        ...
