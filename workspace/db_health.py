"""The workspace database's health: corrupt files refused on open, full disks and locks turned into one line.

A write that fails for lack of space, a lock held too long, or a read-only
file raises ``StorageError`` naming the database and the cause; whatever was
committed before is intact (SQLite rolls a failed transaction back, and a
ROLLBACK is only sent while a transaction is still open).
"""

from __future__ import annotations

import errno
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from workspace.errors import InputError, StorageError


def quick_check(conn: sqlite3.Connection, db_path: Path) -> None:
    """``PRAGMA quick_check`` (fast: no index cross-checks); InputError naming the file if it is damaged."""
    try:
        found = [row[0] for row in conn.execute("PRAGMA quick_check").fetchall()]
    except sqlite3.DatabaseError as exc:
        found = [str(exc)]
    if found != ["ok"]:
        raise InputError(
            f"{db_path}: the workspace database is damaged ({found[0]}); restore it from a copy, "
            f"or move it aside and open the dataset again to start a new workspace"
        )


def is_read_only(db_path: Path) -> bool:
    """True when the database (or its folder, where SQLite keeps its WAL files) cannot be written."""
    return not (os.access(db_path, os.W_OK) and os.access(db_path.parent, os.W_OK))


def rollback_if_open(conn: sqlite3.Connection) -> None:
    """ROLLBACK only a transaction that is still open: a failed COMMIT may already have ended it."""
    if conn.in_transaction:
        conn.execute("ROLLBACK")


@contextmanager
def storage_errors(db_path: Path) -> Iterator[None]:
    """Full disk, lock timeout or a read-only file as StorageError; other errors pass unchanged."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        raise StorageError(f"{db_path}: cannot save now ({exc}); what was saved before is intact") from None
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EROFS):
            raise
        raise StorageError(f"{exc.filename or db_path}: cannot save now ({exc.strerror})") from None
