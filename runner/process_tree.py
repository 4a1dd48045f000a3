"""Ending a run's whole process tree: politely (SIGTERM), then by force (SIGKILL).

``terminate`` does both with a wait between; a caller that reads the run's
output from a pty sends SIGTERM with ``signal`` and keeps reading before
``kill``, or a process that prints on its way out blocks on a full pty.

The tree is the started process, its descendants as psutil sees them, and
every member of the run's pids cgroup (which also catches processes that
escaped by double-forking). Sandboxes with their own pid namespace collapse
as soon as their first process dies; the sweep is what makes the other
backends just as thorough.
"""

from __future__ import annotations

import os
import signal
import time

import psutil

from runner.cgroups import RunCgroups

GRACE_SECONDS = 2.0  # between SIGTERM and SIGKILL
_SWEEP_SECONDS = 10.0
_POLL = 0.02
_LAUNCHERS = ("bwrap",)  # sandbox launchers whose death tears the sandbox down without a grace


class ProcessTree:
    def __init__(self, root_pid: int, cgroup: RunCgroups | None = None) -> None:
        self.root_pid = root_pid
        self.cgroup = cgroup
        self._seen: dict[int, psutil.Process] = {}

    def members(self) -> list[psutil.Process]:
        """The live processes of the run.

        Processes seen by an earlier call are kept, so an orphan whose parent died
        (and that psutil no longer finds under the root) is still ended.
        """
        found: dict[int, psutil.Process] = {}
        try:
            root = psutil.Process(self.root_pid)
            found[root.pid] = root
            for child in root.children(recursive=True):
                found[child.pid] = child
        except psutil.Error:
            pass
        if self.cgroup is not None:
            for pid in self.cgroup.pids():
                try:
                    found.setdefault(pid, psutil.Process(pid))
                except psutil.Error:
                    continue
        for pid, process in list(self._seen.items()):
            found.setdefault(pid, process)
        alive = {pid: p for pid, p in found.items() if _alive(p)}
        self._seen.update(alive)
        return [p for pid, p in alive.items() if pid != os.getpid()]

    def signal(self, sig: int) -> None:
        """Send ``sig`` to every member."""
        _signal_all(self.members(), sig)

    def signal_workers(self, sig: int) -> None:
        """Send ``sig`` to the processes doing the work: all but the launcher at the root.

        A sandbox's launcher (bwrap's monitor) that dies tears the sandbox down at
        once, so sparing it gives the script its grace; as root there are two
        (the staging bwrap and the unprivileged one). A root without children is
        the script itself and gets the signal.
        """
        members = self.members()
        workers = [p for p in members if p.pid != self.root_pid and _name(p) not in _LAUNCHERS]
        _signal_all(workers or members, sig)

    def terminate(self, grace: float = GRACE_SECONDS) -> bool:
        """SIGTERM, wait up to ``grace`` for the tree to go, then SIGKILL; True when nothing is left.

        For processes whose output nobody reads meanwhile (pipes to files, or none).
        """
        self.signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and self.members():
            time.sleep(_POLL)
        return self.kill()

    def kill(self) -> bool:
        """SIGKILL until no member is left (a fork bomb keeps making new ones for a moment)."""
        deadline = time.monotonic() + _SWEEP_SECONDS
        while time.monotonic() < deadline:
            members = self.members()
            if not members:
                break
            _signal_all(members, signal.SIGKILL)
            time.sleep(_POLL)
        left = self.members()
        if self.cgroup is not None and not left:
            self.cgroup.remove()
        return not left


def _name(process: psutil.Process) -> str:
    try:
        return process.name()
    except psutil.Error:
        return ""


def _alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _signal_all(processes: list[psutil.Process], sig: int) -> None:
    for process in processes:
        try:
            process.send_signal(sig)
        except psutil.Error:
            continue
