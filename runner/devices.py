"""The machine's hardware as a sandbox shows it: GPU device nodes and a CPU view libraries trust.

bubblewrap starts from an empty ``/dev`` and no ``/sys``. GPUs are passed
through as ``apptainer --nv`` does: the ``/dev/nvidia*`` nodes (the pattern is
``run.gpu_devices``, so tests can point it at stand-in nodes) and
``/proc/driver/nvidia``; the driver's libraries and ``nvidia-smi`` live under
``/usr``, which every sandbox sees. The CPU view is ``/sys/devices/system/cpu``
(and ``node``), read-only: without it loky, ``lscpu`` and OpenMP cannot count
physical cores and print a traceback into every output.
"""

from __future__ import annotations

import glob
import os
import re
import stat
from pathlib import Path

from runner.sandbox_user import Bind
from workspace.config import RunSettings

CPU_VIEW = ("/sys/devices/system/cpu", "/sys/devices/system/node")
NVIDIA_PROC = "/proc/driver/nvidia"
_GPU_NODE = re.compile(r"nvidia(\d+)$")


def gpu_nodes(settings: RunSettings) -> list[Path]:
    """The device nodes (and folders of them, such as ``nvidia-caps``) that match ``run.gpu_devices``."""
    found = []
    for name in sorted(glob.glob(settings.gpu_devices)):
        try:
            mode = os.lstat(name).st_mode
        except OSError:
            continue
        if stat.S_ISCHR(mode) or stat.S_ISDIR(mode):
            found.append(Path(name))
    return found


def gpu_indices(settings: RunSettings) -> list[int]:
    """The GPU numbers (``nvidia0`` is 0) the machine has, whether or not runs get them."""
    numbers = (_GPU_NODE.search(node.name) for node in gpu_nodes(settings))
    return sorted(int(m.group(1)) for m in numbers if m)


def passes_gpus(settings: RunSettings) -> bool:
    return settings.gpu and bool(gpu_indices(settings))


def device_binds(settings: RunSettings) -> list[Bind]:
    """The bubblewrap binds for the CPU view and, with ``run.gpu`` on, the GPUs (after ``--proc`` and ``--dev``)."""
    binds = [Bind(path, path) for path in CPU_VIEW if os.path.isdir(path)]
    if not settings.gpu:
        return binds
    binds += [Bind(str(node), f"/dev/{node.name}", device=True) for node in gpu_nodes(settings)]
    if gpu_indices(settings) and os.path.isdir(NVIDIA_PROC):
        binds.append(Bind(NVIDIA_PROC, NVIDIA_PROC))
    return binds
