"""The workspace database: connection settings and versioned schema migrations.

The schema version lives in ``PRAGMA user_version``. ``MIGRATIONS[i]`` takes a
database from version ``i`` to ``i + 1``; each runs in its own transaction, so
a crash mid-migration leaves the previous version intact. Append new
migrations at the end; never edit one that has shipped.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from urllib.parse import quote

from workspace.db_health import is_read_only, quick_check, rollback_if_open
from workspace.errors import InputError, StorageError

BUSY_TIMEOUT_MS = 10_000

_V1 = (
    """CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    )""",
    """CREATE TABLE rows (
        row_id TEXT PRIMARY KEY,
        status TEXT NOT NULL DEFAULT 'untouched'
            CHECK (status IN ('untouched', 'in_progress', 'rejected', 'done', 'blocked')),
        reject_reason TEXT,
        note TEXT,
        updated_at REAL NOT NULL
    )""",
    """CREATE TABLE steps (
        row_id TEXT NOT NULL REFERENCES rows(row_id),
        k INTEGER NOT NULL CHECK (k >= 0),
        code TEXT NOT NULL,
        observed_output TEXT NOT NULL,
        bug_confirmed INTEGER NOT NULL DEFAULT 0,
        fixable INTEGER,
        bug_fixed INTEGER NOT NULL DEFAULT 0,
        revised_analysis TEXT NOT NULL DEFAULT '',
        revised_plan TEXT NOT NULL DEFAULT '',
        cwm_analysis TEXT NOT NULL DEFAULT '',
        fixed_code TEXT NOT NULL DEFAULT '',
        verification TEXT,
        annotator TEXT NOT NULL DEFAULT '',
        time_spent REAL NOT NULL DEFAULT 0,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        PRIMARY KEY (row_id, k)
    )""",
    """CREATE TABLE runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        row_id TEXT NOT NULL,
        k INTEGER NOT NULL,
        purpose TEXT NOT NULL CHECK (purpose IN ('original', 'fix', 'replicate')),
        verdict TEXT,
        match TEXT,
        record TEXT NOT NULL,
        created_at REAL NOT NULL,
        FOREIGN KEY (row_id, k) REFERENCES steps(row_id, k)
    )""",
    "CREATE INDEX runs_by_row ON runs(row_id, k)",
    """CREATE TABLE grades (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id INTEGER NOT NULL REFERENCES runs(id),
        result TEXT NOT NULL,
        created_at REAL NOT NULL
    )""",
    "CREATE INDEX grades_by_run ON grades(run_id)",
    """CREATE TABLE traces (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        row_id TEXT NOT NULL,
        k INTEGER NOT NULL,
        code_sha256 TEXT NOT NULL,
        trace_path TEXT NOT NULL,
        meta_path TEXT NOT NULL,
        index_path TEXT NOT NULL,
        meta TEXT NOT NULL,
        created_at REAL NOT NULL,
        FOREIGN KEY (row_id, k) REFERENCES steps(row_id, k)
    )""",
    "CREATE INDEX traces_by_step ON traces(row_id, k)",
    """CREATE TABLE claims (
        row_id TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        host TEXT NOT NULL,
        pid INTEGER NOT NULL,
        token TEXT NOT NULL,
        heartbeat REAL NOT NULL
    )""",
    """CREATE TABLE decisions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        row_id TEXT NOT NULL REFERENCES rows(row_id),
        k INTEGER,
        description TEXT NOT NULL,
        before TEXT NOT NULL,
        created_at REAL NOT NULL
    )""",
    """CREATE TABLE ui_state (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    )""",
)

# Runs and traces no longer point at a step row, so a step made by mistake can be dropped while its runs
# stay in the history (marked dropped); runs record the SHA-256 of the code they started; steps record
# who set each flag (a run, or a person).
_V2 = (
    """CREATE TABLE runs_v2 (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        row_id TEXT NOT NULL REFERENCES rows(row_id),
        k INTEGER NOT NULL,
        purpose TEXT NOT NULL CHECK (purpose IN ('original', 'fix', 'replicate')),
        verdict TEXT,
        match TEXT,
        record TEXT NOT NULL,
        created_at REAL NOT NULL,
        code_sha256 TEXT,
        dropped INTEGER NOT NULL DEFAULT 0
    )""",
    "INSERT INTO runs_v2(id, row_id, k, purpose, verdict, match, record, created_at) "
    "SELECT id, row_id, k, purpose, verdict, match, record, created_at FROM runs",
    "DROP TABLE runs",
    "ALTER TABLE runs_v2 RENAME TO runs",
    "CREATE INDEX runs_by_row ON runs(row_id, k)",
    """CREATE TABLE traces_v2 (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        row_id TEXT NOT NULL REFERENCES rows(row_id),
        k INTEGER NOT NULL,
        code_sha256 TEXT NOT NULL,
        trace_path TEXT NOT NULL,
        meta_path TEXT NOT NULL,
        index_path TEXT NOT NULL,
        meta TEXT NOT NULL,
        created_at REAL NOT NULL
    )""",
    "INSERT INTO traces_v2 SELECT * FROM traces",
    "DROP TABLE traces",
    "ALTER TABLE traces_v2 RENAME TO traces",
    "CREATE INDEX traces_by_step ON traces(row_id, k)",
    "ALTER TABLE steps ADD COLUMN flag_sources TEXT NOT NULL DEFAULT '{}'",
)

MIGRATIONS: tuple[tuple[str, ...], ...] = (_V1, _V2)
SCHEMA_VERSION = len(MIGRATIONS)


def connect(db_path: Path) -> sqlite3.Connection:
    """A connection in autocommit mode: every write transaction is opened and committed explicitly.

    A database that cannot be written (a read-only folder or mount) is opened read-only and
    immutable, so that reading commands still work; a damaged one is refused.
    """
    read_only = db_path.exists() and is_read_only(db_path)
    target = f"file:{quote(str(db_path))}?mode=ro&immutable=1" if read_only else str(db_path)
    try:
        conn = sqlite3.connect(
            target, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False, uri=read_only
        )
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if not read_only:
            _use_wal(conn)
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
    except sqlite3.OperationalError as exc:  # a full disk, a lock, a missing folder: the file may be fine
        raise StorageError(f"{db_path}: cannot open the database now ({exc}); is its disk full?") from None
    except sqlite3.DatabaseError as exc:
        raise InputError(f"{db_path}: not a usable nodefix database ({exc})") from None
    try:
        quick_check(conn, db_path)
    except InputError:
        conn.close()
        raise
    conn.row_factory = sqlite3.Row
    return conn


def _use_wal(conn: sqlite3.Connection) -> None:
    """Switch to WAL, waiting as long as the busy timeout: two processes opening a new database at
    once both ask for the switch, and SQLite refuses one of them at once rather than wait (a deadlock
    otherwise), whatever the busy timeout."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def migrate(conn: sqlite3.Connection, db_path: Path) -> int:
    """Bring the database to SCHEMA_VERSION; returns the version it started at."""
    start = _version(conn)
    if start == SCHEMA_VERSION:
        return start
    if start > SCHEMA_VERSION:
        raise InputError(
            f"{db_path}: schema version {start} was written by a newer nodefix "
            f"(this one knows up to {SCHEMA_VERSION}); upgrade nodefix"
        )
    # Foreign keys are off while tables are rebuilt (SQLite's documented way) and checked before each commit.
    conn.execute("PRAGMA foreign_keys = OFF")
    try:
        return _migrate_from(conn, start)
    finally:
        conn.execute("PRAGMA foreign_keys = ON")


def _migrate_from(conn: sqlite3.Connection, start: int) -> int:
    while True:
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = _version(conn)  # another process may have migrated while we waited
            if version >= SCHEMA_VERSION:
                conn.execute("COMMIT")
                return start
            for statement in MIGRATIONS[version]:
                conn.execute(statement)
            broken = conn.execute("PRAGMA foreign_key_check").fetchone()
            if broken is not None:
                raise sqlite3.IntegrityError(f"migration to version {version + 1} broke a reference: {tuple(broken)}")
            conn.execute(f"PRAGMA user_version = {version + 1}")
            conn.execute("COMMIT")
        except BaseException:
            rollback_if_open(conn)
            raise


def _version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])
