"""The executor the ``[cluster]`` settings ask for."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from runner.executors import Executor
from workspace.config import Config
from workspace.errors import InputError

EXECUTORS = ("local", "slurm")


def make_executor(config: Config, jobs: int, workspace: Path, notice: Callable[[str], None]) -> Executor | None:
    """A Slurm executor when ``cluster.executor`` says slurm; None for the local default."""
    name = config.cluster.executor
    if name not in EXECUTORS:
        raise InputError(f"cluster.executor must be one of {', '.join(EXECUTORS)}, not {name!r}")
    if name == "local":
        return None
    if config.cluster.max_jobs < 1:
        raise InputError(f"cluster.max_jobs must be at least 1, not {config.cluster.max_jobs}")
    if config.cluster.retries < 0:
        raise InputError(f"cluster.retries must be 0 or more, not {config.cluster.retries}")
    from runner.executors.slurm import SlurmExecutor, shared_folder, slurm_finding

    folder = shared_folder(config.cluster, workspace)
    finding = slurm_finding(dataclasses.replace(config.cluster, shared_folder=folder))
    if not finding.ok:
        raise InputError(f"cluster.executor: slurm cannot be used here: {finding.text}")
    return SlurmExecutor(config.cluster, jobs, folder, notice)
