"""Schema versions: a version-0 database is migrated, a newer one refused, a failed step rolled back."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from workspace import schema
from workspace.errors import InputError
from workspace.store import open_workspace

TABLES = {"meta", "rows", "steps", "runs", "grades", "traces", "claims", "decisions", "ui_state"}


def _tables(db: Path) -> set[str]:
    conn = sqlite3.connect(db)
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    conn.close()
    return names - {"sqlite_sequence"}


def _version(db: Path) -> int:
    conn = sqlite3.connect(db)
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    conn.close()
    return version


def test_a_version_0_database_is_migrated_to_the_latest(make_dataset, tmp_path: Path) -> None:
    folder = tmp_path / "ws"
    folder.mkdir()
    sqlite3.connect(folder / "nodefix.db").close()  # an empty file at user_version 0
    assert _version(folder / "nodefix.db") == 0
    with open_workspace(make_dataset(), folder) as ws:
        ws.update_step("row-0", 0, revised_plan="survives reopening")
    assert _version(folder / "nodefix.db") == schema.SCHEMA_VERSION
    assert _tables(folder / "nodefix.db") == TABLES
    with open_workspace(folder) as ws:
        assert ws.step("row-0").revised_plan == "survives reopening"


def test_a_database_from_a_newer_nodefix_is_refused(make_dataset, tmp_path: Path) -> None:
    path = make_dataset()
    with open_workspace(path) as ws:
        db = ws.path / "nodefix.db"
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version = {schema.SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    with pytest.raises(InputError, match="written by a newer nodefix"):
        open_workspace(path)


def test_a_failing_migration_leaves_the_previous_version(make_dataset, tmp_path: Path, monkeypatch) -> None:
    path = make_dataset()
    with open_workspace(path) as ws:
        ws.update_step("row-0", 0, revised_plan="before the upgrade")
        db = ws.path / "nodefix.db"
    broken_next = ("CREATE TABLE notes (id INTEGER PRIMARY KEY)", "CREATE TABLE notes (id INTEGER)")
    monkeypatch.setattr(schema, "MIGRATIONS", schema.MIGRATIONS + (broken_next,))
    monkeypatch.setattr(schema, "SCHEMA_VERSION", len(schema.MIGRATIONS))
    with pytest.raises(sqlite3.OperationalError, match="already exists"):
        open_workspace(path)
    monkeypatch.undo()
    assert _version(db) == schema.SCHEMA_VERSION
    assert "notes" not in _tables(db)
    with open_workspace(path) as ws:
        assert ws.step("row-0").revised_plan == "before the upgrade"


def test_two_processes_creating_one_workspace_at_once(make_dataset, child) -> None:
    path = make_dataset()
    code = (
        "import sys\nfrom workspace.store import open_workspace\n"
        "ws = open_workspace(sys.argv[1]); print('open', ws.path, flush=True); ws.close()\n"
    )
    opened = [child(code, str(path)) for _ in range(2)]
    lines = {c.read_line(deadline=60) for c in opened}
    assert len(lines) == 1
    assert lines.pop().startswith("open ")
    assert _version(path.parent / "dataset.nodefix" / "nodefix.db") == schema.SCHEMA_VERSION


def test_a_workspace_whose_database_is_not_sqlite_is_refused(tmp_path: Path) -> None:
    (tmp_path / "nodefix.db").write_bytes(b"this is not a database, just bytes " * 200)
    with pytest.raises(InputError, match="nodefix.db: not a usable nodefix database"):
        open_workspace(tmp_path)


def test_connections_opening_one_new_database_at_once_all_open_it_in_wal(tmp_path: Path) -> None:
    """SQLite refuses one of two simultaneous switches to WAL at once, whatever the busy timeout."""
    errors: list[Exception] = []
    modes: list[str] = []

    def open_it(db_path: Path, start: threading.Barrier) -> None:
        start.wait()
        try:
            conn = schema.connect(db_path)
        except Exception as exc:
            errors.append(exc)
            return
        modes.append(conn.execute("PRAGMA journal_mode").fetchone()[0])
        conn.close()

    for attempt in range(300):  # one try in fifty or so lost the race before the fix
        start = threading.Barrier(2)
        openers = [threading.Thread(target=open_it, args=(tmp_path / f"{attempt}.db", start)) for _ in range(2)]
        for opener in openers:
            opener.start()
        for opener in openers:
            opener.join(timeout=30)
    assert errors == []
    assert modes == ["wal"] * 600
