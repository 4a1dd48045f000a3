"""What a killed nodefix leaves behind, swept when a workspace is next opened.

Two kinds, each removed only once the process that made it is gone:
export temporary files (``.<name>.<pid>.tmp`` beside the deliverable, the
workspace or the dataset) and run folders that never got their record stored
(each run folder names its owner in ``owner.pid``).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterable
from pathlib import Path

import psutil

OWNER_FILE = "owner.pid"
_EXPORT_TMP = re.compile(r"^\..+\.(\d+)\.tmp$")


def mark_owner(run_dir: Path) -> None:
    (run_dir / OWNER_FILE).write_text(str(os.getpid()))


def sweep_export_temporaries(folders: Iterable[Path]) -> list[Path]:
    """Delete export temporary files whose writer is dead; the ones deleted."""
    removed = []
    for folder in folders:
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        for name in names:
            match = _EXPORT_TMP.match(name)
            if match and not _alive(int(match.group(1))):
                path = folder / name
                try:
                    path.unlink()
                except OSError:
                    continue
                removed.append(path)
    return removed


def sweep_orphan_runs(runs_root: Path, stored: set[str]) -> list[Path]:
    """Delete run folders under ``runs_root`` with no stored record whose owner is dead; the ones deleted."""
    removed = []
    for owner in runs_root.glob(f"*/step*/*/{OWNER_FILE}"):
        folder = owner.parent
        if str(folder) in stored:
            continue
        try:
            pid = int(owner.read_text().strip())
        except (OSError, ValueError):
            continue
        if not _alive(pid):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def _alive(pid: int) -> bool:
    return pid == os.getpid() or psutil.pid_exists(pid)
