"""What a run used and what the machine was doing meanwhile: wall time, CPU time of its process tree, load.

A ``time_limit`` verdict says the script ran for the whole limit without
raising; when its processes got far less CPU than the wall time they sat
through, the machine starved them and the verdict says little about the
script. Such a verdict is marked "starved" so it can be re-run.
"""

from __future__ import annotations

import os
from pathlib import Path

import psutil

from workspace.records import RunRecord

STARVED_SHARE = 0.5  # a time-limited run that got less CPU than this share of its wall time was starved


class CpuMeter:
    """CPU seconds of a run's processes: the cgroup's ``cpu.stat`` where it has one, else psutil samples.

    Samples keep each process's last reading, so processes that ended still count
    (up to the last sample before their end).
    """

    def __init__(self, cgroup_path: Path | None = None) -> None:
        self._stat = cgroup_path / "cpu.stat" if cgroup_path is not None else None
        self._seen: dict[tuple[int, float], float] = {}  # (pid, start time) -> CPU seconds
        self._cgroup_seconds: float | None = None

    def sample(self, processes: list[psutil.Process]) -> None:
        cgroup = self._read_cgroup()
        if cgroup is not None:
            self._cgroup_seconds = cgroup
            return
        for process in processes:
            try:
                with process.oneshot():
                    times = process.cpu_times()
                    self._seen[(process.pid, process.create_time())] = times.user + times.system
            except psutil.Error:
                continue

    @property
    def seconds(self) -> float:
        if self._cgroup_seconds is not None:
            return self._cgroup_seconds
        return sum(self._seen.values())

    def _read_cgroup(self) -> float | None:
        if self._stat is None:
            return None
        try:
            for line in self._stat.read_text().splitlines():
                name, _, value = line.partition(" ")
                if name == "usage_usec":
                    return int(value) / 1e6
        except (OSError, ValueError):
            return None
        return None


def machine_load() -> float:
    """The 1-minute load average of the machine."""
    return round(os.getloadavg()[0], 2)


def usage_record(wall: float, cpu: float, load_start: float, cpus: int, threads: int | None) -> dict:
    """The ``resources`` part of a run record."""
    return {
        "wall_seconds": round(wall, 2),
        "cpu_seconds": round(cpu, 2),
        "load_start": load_start,
        "load_end": machine_load(),
        "cpus": cpus,
        "threads": threads,
    }


def starved_note(kind: str, resources: dict | None) -> str | None:
    """ "starved: cpu X s of wall Y s" for a time-limited run that got little CPU, else None."""
    if kind != "time_limit" or not resources:
        return None
    wall, cpu = resources.get("wall_seconds") or 0.0, resources.get("cpu_seconds") or 0.0
    if wall <= 0 or cpu >= STARVED_SHARE * wall:
        return None
    return f"starved: cpu {cpu:.1f} s of wall {wall:.1f} s"


def run_starved(run: RunRecord | None) -> str | None:
    """The starved note of a stored run, if it has one."""
    return run.verdict.starved if run is not None else None
