"""Resource limits for a sandboxed run: memory, file size, and a cap on processes.

Memory (RLIMIT_AS, when the backend wants one) and file size are rlimits set
in the child before it starts the sandbox, so every process inside inherits
them. The process cap needs more
care: root is exempt from RLIMIT_NPROC, so when nodefix runs as root the cap is
a ``pids`` cgroup of its own (cgroup v1 or v2, whichever is writable); as any
other user RLIMIT_NPROC holds.
"""

from __future__ import annotations

import functools
import os
import re
import resource
import subprocess
import termios
import uuid
from pathlib import Path

import psutil

from workspace.config import RunSettings
from workspace.errors import InputError

FILE_SIZE_LIMIT = 20 * 1024**3  # no single file the script writes may pass this
_SANDBOX_OVERHEAD = 8  # bwrap's two processes, unshare, and a little slack over max_processes
_PREFIX = "nodefix-"  # cgroups are named nodefix-<pid of the nodefix that made it>-<random>
_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}


def parse_memory_limit(text: str) -> int:
    """Bytes from "80%" (of this machine's memory), "16G", "512M", "1048576"."""
    value = text.strip().upper().removesuffix("B").removesuffix("I")
    percent = re.fullmatch(r"(\d+(?:\.\d+)?)\s*%", value)
    if percent:
        share = float(percent.group(1))
        if not 0 < share <= 100:
            raise InputError(f"run.memory_limit: {text!r} must be a share between 0% and 100%")
        return int(psutil.virtual_memory().total * share / 100)
    sized = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([KMGT]?)", value)
    if not sized or float(sized.group(1)) <= 0:
        raise InputError(f"run.memory_limit: {text!r} is not a size like 16G, 512M or 80%")
    return int(float(sized.group(1)) * _UNITS[sized.group(2)])


class PidsCgroup:
    """A pids cgroup made for one run: caps the processes and lists every one of them."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @classmethod
    def create(cls, max_pids: int) -> PidsCgroup | None:
        """A fresh cgroup, or None when processes cannot be put in pids cgroups here."""
        base = pids_hierarchy()
        if base is None:
            return None
        _remove_stale(base)
        return cls._make(base, max_pids)

    @classmethod
    def _make(cls, base: Path, max_pids: int) -> PidsCgroup | None:
        path = base / f"{_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}"
        try:
            path.mkdir()
            (path / "pids.max").write_text(str(max_pids))
        except OSError:
            _remove_dir(path)
            return None
        return cls(path)

    def enter(self) -> None:
        """Move the calling process in; called in the child before it starts the sandbox."""
        with open(self.path / "cgroup.procs", "w") as procs:
            procs.write(str(os.getpid()))

    def pids(self) -> list[int]:
        try:
            return [int(p) for p in (self.path / "cgroup.procs").read_text().split()]
        except OSError:
            return []

    def remove(self) -> bool:
        """Delete the cgroup; False while processes are still in it."""
        return _remove_dir(self.path)


@functools.lru_cache(maxsize=1)
def pids_hierarchy() -> Path | None:
    """Where this process can make pids cgroups and move processes into them, if anywhere."""
    v1 = Path("/sys/fs/cgroup/pids")
    v2 = Path("/sys/fs/cgroup")
    if (v1 / "cgroup.procs").exists():
        base = v1
    elif "pids" in _read(v2 / "cgroup.subtree_control").split():
        base = v2
    else:
        return None
    if not os.access(base, os.W_OK):
        return None
    # A writable folder is not enough (a container may refuse the move): try it once.
    probe = PidsCgroup._make(base, 4)
    if probe is None:
        return None
    try:
        subprocess.run(["true"], preexec_fn=probe.enter, check=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    finally:
        probe.remove()
    return base


def _remove_stale(base: Path) -> None:
    """Remove the empty cgroups that a nodefix killed mid-run left behind."""
    for path in base.glob(f"{_PREFIX}*"):
        owner = path.name[len(_PREFIX) :].split("-", 1)[0]
        if owner.isdigit() and not psutil.pid_exists(int(owner)):
            _remove_dir(path)


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _remove_dir(path: Path) -> bool:
    try:
        path.rmdir()
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return True


class ChildSetup:
    """What the child does between fork and exec: limits, cgroup, a raw-output terminal.

    Runs in the forked child of a threaded program, so it only makes system calls.
    """

    def __init__(self, settings: RunSettings, cgroup: PidsCgroup | None, address_space: int | None) -> None:
        self.memory = address_space  # None: no RLIMIT_AS (the backend's own limits apply)
        self.max_processes = settings.max_processes
        self.cgroup = cgroup

    @property
    def caps_processes(self) -> bool:
        return self.cgroup is not None or os.geteuid() != 0

    def __call__(self) -> None:
        if self.cgroup is not None:
            self.cgroup.enter()
        if self.memory is not None:
            resource.setrlimit(resource.RLIMIT_AS, (self.memory, self.memory))
        resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_SIZE_LIMIT, FILE_SIZE_LIMIT))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if os.geteuid() != 0:
            resource.setrlimit(resource.RLIMIT_NPROC, (self.max_processes, self.max_processes))
        # The script's bytes reach the log unchanged: no "\n" -> "\r\n" on the way out.
        attrs = termios.tcgetattr(0)
        attrs[1] &= ~termios.ONLCR
        termios.tcsetattr(0, termios.TCSANOW, attrs)


def cgroup_limit(settings: RunSettings) -> int:
    return settings.max_processes + _SANDBOX_OVERHEAD
