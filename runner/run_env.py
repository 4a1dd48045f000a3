"""What a run's environment holds beyond the clean defaults: thread budgets, GPUs and the configured variables.

Numerical libraries start a thread per core of the machine, not per core the
run may use; on a busy box that turns a 10-second script into a time-limit
verdict. So every run gets a thread budget (``OMP_NUM_THREADS`` and friends)
equal to the CPUs it may use (all of them for a single run, an even share of
them under ``replicate --jobs N``, with the CPU affinity set to that share).
``run.threads`` overrides the number (-1: no budget and no pinning, the
libraries' own defaults); ``run.env`` sets any variable and wins over both.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from workspace.config import RunSettings

THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMEXPR_NUM_THREADS")


def usable_cpus() -> tuple[int, ...]:
    """The CPUs this process may run on."""
    return tuple(sorted(os.sched_getaffinity(0)))


def cpu_shares(jobs: int, cpus: tuple[int, ...] | None = None) -> list[tuple[int, ...]]:
    """``jobs`` even, disjoint shares of the usable CPUs (one CPU each, reused in turn, when jobs outnumber them)."""
    cpus = cpus or usable_cpus()
    if jobs >= len(cpus):
        return [(cpus[job % len(cpus)],) for job in range(jobs)]
    size, extra = divmod(len(cpus), jobs)
    shares, start = [], 0
    for job in range(jobs):
        end = start + size + (1 if job < extra else 0)
        shares.append(cpus[start:end])
        start = end
    return shares


def gpu_shares(jobs: int, gpus: list[int], per_job: int) -> list[tuple[int, ...] | None]:
    """The GPUs of each job, round robin, ``per_job`` each; None (every GPU) when there are none or per_job is 0."""
    if not gpus or per_job <= 0:
        return [None] * jobs
    return [tuple(gpus[(job * per_job + i) % len(gpus)] for i in range(min(per_job, len(gpus)))) for job in range(jobs)]


def budgets_threads(settings: RunSettings) -> bool:
    return settings.threads >= 0


def thread_budget(settings: RunSettings, cpus: tuple[int, ...] | None) -> int | None:
    """Threads per library for a run on ``cpus``; None when ``run.threads`` turns the budget off."""
    if not budgets_threads(settings):
        return None
    return settings.threads or len(cpus or usable_cpus())


def run_variables(settings: RunSettings, cpus: tuple[int, ...] | None, gpus: tuple[int, ...] | None) -> dict[str, str]:
    """The variables a run gets on top of the clean defaults; ``run.env`` wins over the budget."""
    threads = thread_budget(settings, cpus)
    variables = dict.fromkeys(THREAD_VARIABLES, str(threads)) if threads is not None else {}
    if gpus is not None:
        variables["CUDA_VISIBLE_DEVICES"] = ",".join(str(g) for g in gpus)
    return {**variables, **settings.env}


def pinned(setup: Callable[[], None], cpus: tuple[int, ...] | None) -> Callable[[], None]:
    """``setup`` (a child's pre-exec step), then the CPU affinity set to ``cpus``; every process inside inherits it."""
    if cpus is None:
        return setup

    def child() -> None:
        setup()
        os.sched_setaffinity(0, cpus)

    return child
