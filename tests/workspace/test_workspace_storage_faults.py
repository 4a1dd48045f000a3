"""A full disk, a damaged database and a read-only workspace: one clear line, exit 2, nothing saved lost."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tui.cli import main
from workspace.errors import InputError, StorageError
from workspace.locate import DB_NAME
from workspace.store import open_workspace

pytestmark = pytest.mark.timeout(60)


def test_a_full_disk_ends_a_command_with_one_line_and_keeps_what_was_saved(make_dataset, small_tmpfs, capsys):
    dataset = make_dataset([{}])
    folder = small_tmpfs.path / "ws"
    target = ["annotate", str(dataset), "--workspace", str(folder), "--id", "row-0", "--set"]
    assert main([*target, "revised_analysis=kept"]) == 0
    small_tmpfs.fill()
    code = main([*target, "revised_analysis=" + "x" * 2_000_000])
    err = [line for line in capsys.readouterr().err.strip().splitlines() if not line.startswith("nodefix: workspace ")]
    assert code == 2
    assert len(err) == 1, err
    assert "cannot" in err[0]
    assert "full" in err[0] or "I/O" in err[0], err
    small_tmpfs.free()
    with open_workspace(folder) as ws:
        assert ws.step("row-0").revised_analysis == "kept"


def test_the_store_raises_storage_error_when_full_and_saves_once_space_is_back(make_dataset, small_tmpfs):
    ws = open_workspace(make_dataset([{}]), small_tmpfs.path / "ws")
    try:
        small_tmpfs.fill()
        with pytest.raises(StorageError, match="cannot save now"):
            ws.update_step("row-0", 0, revised_analysis="y" * 2_000_000)
        small_tmpfs.free()
        ws.update_step("row-0", 0, revised_analysis="saved later")
        assert ws.step("row-0").revised_analysis == "saved later"
    finally:
        small_tmpfs.free()
        ws.close()


def test_a_damaged_database_is_refused_with_one_line(make_dataset, tmp_path, capsys):
    dataset = make_dataset([{}] * 50)
    folder = tmp_path / "ws"
    with open_workspace(dataset, folder) as ws:
        for n in range(50):
            ws.update_step(f"row-{n}", 0, revised_analysis="text " * 200)
    db = folder / DB_NAME
    assert db.is_file()
    with open(db, "r+b") as f:  # keep the header, garble pages after it
        f.seek(4096)
        f.write(os.urandom(16 * 4096))
    with pytest.raises(InputError, match="damaged|not a usable"):
        open_workspace(folder)
    assert main(["rows", str(folder)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert str(db) in err[0]


@pytest.mark.skipif(os.geteuid() != 0, reason="a read-only bind mount needs root (chmod does not bind root)")
def test_read_only_commands_work_on_a_read_only_workspace(make_dataset, tmp_path, capsys):
    dataset = make_dataset([{}, {}])
    folder = tmp_path / "ws"
    with open_workspace(dataset, folder) as ws:
        ws.update_step("row-1", 0, revised_analysis="annotated")
    view = tmp_path / "read-only-view"
    view.mkdir()
    subprocess.run(["mount", "--bind", str(folder), str(view)], check=True, timeout=10)
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(view)], check=True, timeout=10)
        assert main(["rows", str(view)]) == 0
        assert main(["show", str(view), "--id", "row-1"]) == 0
        assert main(["export", str(view), "--out", str(tmp_path / "deliverable.parquet")]) == 0
        assert (tmp_path / "deliverable.parquet").is_file()
        out = capsys.readouterr().out
        assert "row-1" in out
        assert "annotated" in out
        assert main(["annotate", str(view), "--id", "row-1", "--set", "revised_analysis=no"]) == 2
        assert "cannot save now" in capsys.readouterr().err.strip().splitlines()[-1]
    finally:
        subprocess.run(["umount", str(view)], check=False, timeout=10)
    shutil.rmtree(view, ignore_errors=True)
