"""Leftovers of killed processes are swept on the next open, and only those whose owner is dead."""

from __future__ import annotations

import os
import subprocess
import sys

from workspace.leftovers import OWNER_FILE
from workspace.store import open_workspace


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_orphan_run_folders_and_export_temporaries_of_dead_processes_are_swept(make_dataset, tmp_path):
    dataset = make_dataset([{}])
    folder = tmp_path / "ws"
    with open_workspace(dataset, folder) as ws:
        orphan = ws.run_dir("row-0", 0)
        (orphan / "scratch").mkdir()
        live = ws.run_dir("row-0", 0)
        stored = ws.run_dir("row-0", 0)
        ws.add_run("row-0", 0, "original", {"run_dir": str(stored), "verdict": {"kind": "error"}})
    dead = _dead_pid()
    (orphan / OWNER_FILE).write_text(str(dead))
    (stored / OWNER_FILE).write_text(str(dead))  # dead owner, but its record is stored: kept
    (live / OWNER_FILE).write_text(str(os.getppid()))  # an owner still running: kept
    dead_tmp = dataset.parent / f".out.parquet.{dead}.tmp"
    live_tmp = folder / f".out.parquet.{os.getppid()}.tmp"
    dead_tmp.write_bytes(b"half")
    live_tmp.write_bytes(b"half")
    with open_workspace(folder):
        pass
    assert not orphan.exists()
    assert live.exists()
    assert stored.exists()
    assert not dead_tmp.exists()
    assert live_tmp.exists()
