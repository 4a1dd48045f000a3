"""Resource limits for a sandboxed run: memory, file size, and a cap on processes.

Memory (RLIMIT_AS, when the backend wants one) and file size are rlimits set
in the child before it starts the sandbox, so every process inside inherits
them; RLIMIT_AS holds per process only, so the run as a whole is also put in a
memory cgroup (``runner.cgroups``) when one can be made. The process cap needs
more care: root is exempt from RLIMIT_NPROC, so when nodefix runs as root the
cap is a ``pids`` cgroup of its own; without one RLIMIT_NPROC is set anyway,
and holds once the sandbox has dropped to its unprivileged user.
"""

from __future__ import annotations

import dataclasses
import os
import resource
import termios

import psutil

from runner.cgroups import RunCgroups
from workspace.config import RunSettings
from workspace.sizes import parse_memory_limit

FILE_SIZE_LIMIT = 20 * 1024**3  # no single file the script writes may pass this
_SANDBOX_OVERHEAD = 8  # bwrap's two processes, unshare, and a little slack over max_processes


class ChildSetup:
    """What the child does between fork and exec: limits, cgroup, a raw-output terminal.

    Runs in the forked child of a threaded program, so it only makes system calls.
    """

    def __init__(
        self, settings: RunSettings, cgroups: RunCgroups, address_space: int | None, drops_privileges: bool
    ) -> None:
        self.memory = address_space  # None: no RLIMIT_AS (the backend's own limits apply)
        self.max_processes = settings.max_processes
        self.file_size = min(FILE_SIZE_LIMIT, parse_memory_limit(settings.scratch_limit, "run.scratch_limit"))
        self.cgroups = cgroups
        self.drops_privileges = drops_privileges  # the sandbox leaves root before the script starts

    @property
    def caps_processes(self) -> bool:
        return self.cgroups.pids_cgroup is not None or os.geteuid() != 0 or self.drops_privileges

    def __call__(self) -> None:
        self.cgroups.enter()
        if self.memory is not None:
            resource.setrlimit(resource.RLIMIT_AS, (self.memory, self.memory))
        resource.setrlimit(resource.RLIMIT_FSIZE, (self.file_size, self.file_size))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if self.cgroups.pids_cgroup is None:
            resource.setrlimit(resource.RLIMIT_NPROC, (self.max_processes, self.max_processes))
        # The script's bytes reach the log unchanged: no "\n" -> "\r\n" on the way out.
        attrs = termios.tcgetattr(0)
        attrs[1] &= ~termios.ONLCR
        termios.tcsetattr(0, termios.TCSANOW, attrs)


def cgroup_limit(settings: RunSettings) -> int:
    return settings.max_processes + _SANDBOX_OVERHEAD


def budget_for_jobs(settings: RunSettings, jobs: int) -> RunSettings:
    """Settings for one of ``jobs`` runs side by side: the memory cap shrunk so that together they fit the machine."""
    share = psutil.virtual_memory().total // max(jobs, 1)
    cap = parse_memory_limit(settings.memory_limit)
    return settings if cap <= share else dataclasses.replace(settings, memory_limit=str(share))
