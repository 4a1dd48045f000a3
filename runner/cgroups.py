"""The cgroups around one run: a ``pids`` cgroup caps its processes, a ``memory`` cgroup its memory.

Each controller gets a cgroup of its own, made for the run under the first
hierarchy that is writable here (cgroup v1 ``/sys/fs/cgroup/<controller>`` or
the v2 unified ``/sys/fs/cgroup``), so the caps hold for every process of the
run together, the files it keeps in a tmpfs included. Where no hierarchy can be
used (not root and nothing delegated, or a container that refuses the move)
the run goes on with the rlimits alone and says so.
"""

from __future__ import annotations

import contextlib
import functools
import os
import subprocess
import uuid
from pathlib import Path

import psutil

V1_ROOT = Path("/sys/fs/cgroup")
V2_ROOT = Path("/sys/fs/cgroup")
_PREFIX = "nodefix-"  # cgroups are named nodefix-<pid of the nodefix that made it>-<random>

# The files that set each controller's cap, per cgroup version; the first is the cap itself.
_LIMIT_FILES = {
    ("pids", 1): ("pids.max",),
    ("pids", 2): ("pids.max",),
    ("memory", 1): ("memory.limit_in_bytes", "memory.memsw.limit_in_bytes"),  # memsw: swap counts too
    ("memory", 2): ("memory.max", "memory.swap.max"),
}


class Cgroup:
    """One controller's cgroup made for one run."""

    def __init__(self, path: Path, controller: str, version: int) -> None:
        self.path = path
        self.controller = controller
        self.version = version

    @classmethod
    def create(cls, controller: str, limit: int) -> Cgroup | None:
        """A fresh cgroup capped at ``limit``, or None when this controller cannot be used here."""
        found = hierarchy(controller)
        if found is None:
            return None
        base, version = found
        _remove_stale(base)
        return cls._make(base, controller, version, limit)

    @classmethod
    def _make(cls, base: Path, controller: str, version: int, limit: int) -> Cgroup | None:
        path = base / f"{_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}"
        try:
            path.mkdir()
        except OSError:
            return None
        cgroup = cls(path, controller, version)
        cap, *extra = _LIMIT_FILES[(controller, version)]
        try:
            (path / cap).write_text(str(limit))
        except OSError:
            cgroup.remove()
            return None
        for name in extra:  # swap accounting is often off: the cap itself still holds
            value = "0" if name == "memory.swap.max" else str(limit)
            with contextlib.suppress(OSError):
                (path / name).write_text(value)
        return cgroup

    def enter(self) -> None:
        """Move the calling process in; called in the child before it starts the sandbox."""
        with open(self.path / "cgroup.procs", "w") as procs:
            procs.write(str(os.getpid()))

    def pids(self) -> list[int]:
        try:
            return [int(p) for p in (self.path / "cgroup.procs").read_text().split()]
        except OSError:
            return []

    def oom_kills(self) -> int:
        """How many processes of the run the kernel killed for passing the memory cap."""
        events = self.path / ("memory.events" if self.version == 2 else "memory.oom_control")
        for line in _read(events).splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill" and value.strip().isdigit():
                return int(value)
        return 0

    def peak_bytes(self) -> int | None:
        name = "memory.peak" if self.version == 2 else "memory.max_usage_in_bytes"
        text = _read(self.path / name).strip()
        return int(text) if text.isdigit() else None

    def remove(self) -> bool:
        """Delete the cgroup; False while processes are still in it."""
        return _remove_dir(self.path)


class RunCgroups:
    """The run's cgroups together: entered together, listed together, removed together."""

    def __init__(self, pids: Cgroup | None, memory: Cgroup | None) -> None:
        self.pids_cgroup = pids
        self.memory_cgroup = memory
        self._oom_kills = 0  # read before removal: a removed cgroup's counters are gone

    @classmethod
    def create(cls, max_pids: int | None, memory_bytes: int | None) -> RunCgroups:
        pids = Cgroup.create("pids", max_pids) if max_pids is not None else None
        memory = Cgroup.create("memory", memory_bytes) if memory_bytes is not None else None
        return cls(pids, memory)

    @property
    def members(self) -> list[Cgroup]:
        return [c for c in (self.pids_cgroup, self.memory_cgroup) if c is not None]

    @property
    def path(self) -> Path | None:
        """One of the run's cgroup folders (where cgroup v2 keeps the run's ``cpu.stat``), if it has any."""
        return self.members[0].path if self.members else None

    def enter(self) -> None:
        for cgroup in self.members:
            cgroup.enter()

    def pids(self) -> list[int]:
        return sorted({pid for cgroup in self.members for pid in cgroup.pids()})

    def oom_kills(self) -> int:
        if self.memory_cgroup is not None:
            self._oom_kills = max(self._oom_kills, self.memory_cgroup.oom_kills())
        return self._oom_kills

    def remove(self) -> bool:
        self.oom_kills()
        return all([cgroup.remove() for cgroup in self.members])


@functools.lru_cache(maxsize=4)
def hierarchy(controller: str) -> tuple[Path, int] | None:
    """(where this process can make ``controller`` cgroups and move processes in, cgroup version), if anywhere."""
    v1 = V1_ROOT / controller
    if (v1 / "cgroup.procs").exists():
        base, version = v1, 1
    elif controller in _read(V2_ROOT / "cgroup.subtree_control").split():
        base, version = V2_ROOT, 2
    else:
        return None
    if not os.access(base, os.W_OK):
        return None
    # A writable folder is not enough (a container may refuse the move): try it once.
    probe = Cgroup._make(base, controller, version, 64 * 1024**2 if controller == "memory" else 4)
    if probe is None:
        return None
    try:
        subprocess.run(["true"], preexec_fn=probe.enter, check=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    finally:
        probe.remove()
    return base, version


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
