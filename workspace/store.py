"""The workspace: every annotation of one dataset, in an SQLite database beside run and trace files.

Each public method that writes opens its own transaction and commits it
before returning, so whatever a call saved survives the process being killed.
The source parquet is only ever read.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from workspace import schema
from workspace.arrow_numbers import arrow_rows
from workspace.claims import Heartbeat, Holder, is_live
from workspace.config import default_annotator
from workspace.dataset import Dataset, SourceRow, file_fingerprint, file_stat_key, load_dataset
from workspace.db_health import is_read_only, rollback_if_open, storage_errors
from workspace.done_check import QuoteChecker, done_blockers
from workspace.errors import InputError, StorageError
from workspace.id_cache import FILE_NAME as ID_CACHE
from workspace.id_cache import IdCache
from workspace.leftovers import mark_owner, sweep_export_temporaries, sweep_orphan_runs
from workspace.locate import DB_NAME, default_workspace_dir, safe_name
from workspace.records import RunRecord, TraceMeta, TraceRecord, verification_from_json
from workspace.run_rules import (
    code_sha256,
    fix_verdict,
    new_step_refusal,
    replication_confirms,
    replication_is_new_bug,
)
from workspace.summaries import RowSummary, Summaries
from workspace.vocabulary import (
    FLAG_FIELDS,
    REJECT_REASONS,
    RUN_PURPOSES,
    SOURCE_FIELDS_NOT_EDITED,
    STATUSES,
    STEP_SOURCE_FIELDS,
    TEXT_FIELDS,
    flag_word,
)

EDITABLE_FIELDS = TEXT_FIELDS + FLAG_FIELDS  # the verification is only ever set by storing a run
_STEP_COLUMNS = (
    ("k",)
    + STEP_SOURCE_FIELDS
    + EDITABLE_FIELDS
    + ("verification", "flag_sources", "annotator", "time_spent", "created_at", "updated_at")
)
REPLICATION_PURPOSES = ("original", "replicate")


@dataclass
class Step:
    row_id: str
    index: int
    code: str
    observed_output: str
    bug_confirmed: bool
    fixable: bool | None  # None: not decided yet
    bug_fixed: bool
    revised_analysis: str
    revised_plan: str
    cwm_analysis: str
    fixed_code: str
    verification: RunRecord | None  # the verifying run, with its grade if graded
    annotator: str
    time_spent: float
    created_at: float | None  # None for a step 0 that was never saved
    updated_at: float | None
    flag_sources: dict = field(default_factory=dict)  # flag -> {"run": id} or {"hand": annotator}

    def code_hashes(self) -> tuple[str, str | None]:
        """The SHA-256 of the step's code and of its fixed code (None while it has none), which its traces
        and runs are matched by."""
        return code_sha256(self.code), code_sha256(self.fixed_code) if self.fixed_code.strip() else None


def unsaved_step0(row_id: str, code: str = "", observed_output: str = "") -> Step:
    """Step 0 of a row nothing was saved for: the source's code and output, nothing decided."""
    return Step(row_id, 0, code, observed_output, False, None, False, "", "", "", "", None, "", 0.0, None, None)


def open_workspace(target: Path, workspace_dir: Path | None = None, *, annotator: str | None = None) -> Workspace:
    """Open (creating it if needed) the workspace of a dataset parquet, or an existing workspace folder."""
    target = Path(target).expanduser()
    if target.is_dir():
        folder = target.resolve()
        if workspace_dir is not None and Path(workspace_dir).expanduser().resolve() != folder:
            raise InputError(f"{target}: is a workspace folder; --workspace {workspace_dir} names another one")
        if not (folder / DB_NAME).is_file():
            raise InputError(f"{folder}: not a nodefix workspace (no {DB_NAME}); pass a dataset parquet")
        conn = _open_db(folder)
        with _closed_on_error(conn):
            dataset = _stored_dataset(conn, folder)
    else:
        chosen = Path(workspace_dir).expanduser().resolve() if workspace_dir else None
        expected = chosen or default_workspace_dir(target.resolve())
        fingerprint = _made_from(expected, target)
        dataset = load_dataset(
            target, checked=fingerprint is not None, id_cache=IdCache(expected / ID_CACHE, fingerprint or "")
        )
        folder = chosen or default_workspace_dir(dataset.path)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(f"{folder}: cannot create the workspace folder ({exc.strerror})") from None
        conn = _open_db(folder)
        with _closed_on_error(conn):
            linked = _link_dataset(conn, folder, dataset)
        if fingerprint is None:  # new here: the ids just read are kept for the next open
            dataset.keep_ids(IdCache(folder / ID_CACHE, linked))
    ws = Workspace(folder, dataset, conn, annotator or default_annotator())
    ws.sweep_leftovers()
    return ws


def _open_db(folder: Path) -> sqlite3.Connection:
    db_path = folder / DB_NAME
    conn = schema.connect(db_path)
    with _closed_on_error(conn):
        schema.migrate(conn, db_path)
    return conn


@contextmanager
def _closed_on_error(conn: sqlite3.Connection) -> Iterator[None]:
    try:
        yield
    except BaseException:
        conn.close()
        raise


def _stored_dataset(conn: sqlite3.Connection, folder: Path) -> Dataset:
    meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    if "dataset_path" not in meta:
        raise InputError(f"{folder}: workspace has no dataset yet; open it with a dataset parquet and --workspace")
    stored = Path(meta["dataset_path"])
    if not stored.is_file():
        raise InputError(
            f"{folder}: its dataset {stored} is gone; if it moved, run with NEW.parquet --workspace {folder}"
        )
    if meta.get("dataset_stat") != file_stat_key(stored):
        if file_fingerprint(stored) != meta["dataset_fingerprint"]:
            raise InputError(
                f"{stored}: its content changed since workspace {folder} was made from it; "
                f"restore the original file or start a new workspace"
            )
        _remember_stat(conn, stored)
    # the file the workspace was made from, checked then
    return load_dataset(stored, checked=True, id_cache=IdCache(folder / ID_CACHE, meta["dataset_fingerprint"]))


def _made_from(folder: Path, dataset: Path) -> str | None:
    """The fingerprint of this very file when the workspace in ``folder`` was made from it (so it was checked
    whole then); None otherwise."""
    db_path = folder / DB_NAME
    if not db_path.is_file() or not dataset.is_file():
        return None
    try:
        conn = sqlite3.connect(f"{db_path.as_uri()}?mode=ro", uri=True)
        try:
            meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        finally:
            conn.close()
    except sqlite3.Error:
        return None  # the real open reports what is wrong with the database
    stored = meta.get("dataset_fingerprint")
    if stored is None or meta.get("dataset_path") != str(dataset.resolve()):
        return None
    unchanged = meta.get("dataset_stat") == file_stat_key(dataset)
    return stored if unchanged or stored == file_fingerprint(dataset) else None


def _remember_stat(conn: sqlite3.Connection, path: Path) -> None:
    """Cache (size, mtime, inode) of a dataset whose full hash was just checked, so reopening skips hashing."""
    conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('dataset_stat', ?)", (file_stat_key(path),))


def _link_dataset(conn: sqlite3.Connection, folder: Path, dataset: Dataset) -> str:
    """Record the dataset in a new workspace; accept a moved copy of the same file; refuse another file.
    Returns the dataset's fingerprint."""
    meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    if meta.get("dataset_path") == str(dataset.path) and meta.get("dataset_stat") == file_stat_key(dataset.path):
        return meta["dataset_fingerprint"]  # hashed before, untouched since
    fingerprint = dataset.fingerprint()
    meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    if meta.get("dataset_fingerprint") == fingerprint and meta.get("dataset_path") == str(dataset.path):
        return fingerprint  # already linked: nothing to write (the workspace may be read-only)
    conn.execute("BEGIN IMMEDIATE")
    try:
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        if "dataset_fingerprint" in meta and meta["dataset_fingerprint"] != fingerprint:
            stored = meta["dataset_path"]
            what = "its content has changed since" if stored == str(dataset.path) else "is not the dataset"
            raise InputError(
                f"{dataset.path}: {what} workspace {folder} was made from {stored}; use another --workspace"
            )
        for key, value in (("dataset_path", str(dataset.path)), ("dataset_fingerprint", fingerprint)):
            conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))
        _remember_stat(conn, dataset.path)
        conn.execute("COMMIT")
    except BaseException:
        rollback_if_open(conn)
        raise
    return fingerprint


class Workspace:
    """Annotations of one dataset. Thread-safe: calls are serialised on one connection."""

    def __init__(self, path: Path, dataset: Dataset, conn: sqlite3.Connection, annotator: str) -> None:
        self.path = path
        self.dataset = dataset
        self.annotator = annotator
        self._conn = conn
        self._closed = False
        self._lock = threading.RLock()
        self._me = Holder(annotator=annotator)
        self._heartbeat: Heartbeat | None = None
        self._competitions: pa.ChunkedArray | None = None  # read once: the dataset does not change

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- transactions and guards

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock, storage_errors(self.path / DB_NAME):
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException:
                rollback_if_open(self._conn)
                raise

    def _read(self, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def _ensure_row(self, row_id: str) -> None:
        self.dataset.index_of(row_id)
        self._conn.execute(
            "INSERT OR IGNORE INTO rows(row_id, status, updated_at) VALUES (?, 'untouched', ?)", (row_id, time.time())
        )

    def _ensure_step(self, row_id: str, k: int) -> None:
        """Step 0 is made from the source row on first write; later steps must exist already."""
        self._ensure_row(row_id)
        if self._conn.execute("SELECT 1 FROM steps WHERE row_id = ? AND k = ?", (row_id, k)).fetchone():
            return
        if k != 0:
            last = self._conn.execute("SELECT MAX(k) FROM steps WHERE row_id = ?", (row_id,)).fetchone()[0]
            raise InputError(f"row {row_id!r}: no debug step {k} (it has steps 0..{last or 0})")
        source = self.dataset.row(row_id)
        now = time.time()
        self._conn.execute(
            "INSERT INTO steps(row_id, k, code, observed_output, annotator, created_at, updated_at) "
            "VALUES (?, 0, ?, ?, '', ?, ?)",
            (row_id, source.code, source.term_out, now, now),
        )

    def _refuse_if_claimed(self, row_id: str) -> None:
        claim = self._conn.execute("SELECT * FROM claims WHERE row_id = ?", (row_id,)).fetchone()
        if claim is None:
            return
        if claim["token"] == self._me.token:
            self._conn.execute("UPDATE claims SET heartbeat = ? WHERE row_id = ?", (time.time(), row_id))
        elif is_live(claim, self._me):
            raise InputError(
                f"row {row_id!r}: being edited by {claim['holder']}; "
                f"wait until it is released (or stale after a minute without a heartbeat)"
            )

    def _log_decision(self, row_id: str, k: int | None, description: str, before: dict) -> None:
        self._conn.execute(
            "INSERT INTO decisions(row_id, k, description, before, created_at) VALUES (?, ?, ?, ?, ?)",
            (row_id, k, description, json.dumps(before), time.time()),
        )

    # ---- rows

    def summaries(self) -> Summaries:
        """Every row's summary: read from the store for the rows it knows, the others untouched."""
        if self._competitions is None:
            self._competitions = self.dataset.text_column("competition_id")
        with self._lock:
            rows = {r[0]: (r[1], r[2]) for r in self._conn.execute("SELECT row_id, status, reject_reason FROM rows")}
            steps = {
                r[0]: (r[1], r[2])
                for r in self._conn.execute("SELECT row_id, COUNT(*), SUM(time_spent) FROM steps GROUP BY row_id")
            }
            replications = {
                r[0]: (r[1], r[2], r[3] or r[1], r[4])
                for r in self._conn.execute(
                    "SELECT row_id, verdict, match, json_extract(record, '$.verdict.error.exc_type'), "
                    "json_extract(record, '$.verdict.starved') FROM runs "
                    "WHERE id IN (SELECT MAX(id) FROM runs WHERE purpose IN ('original', 'replicate') "
                    "AND NOT dropped GROUP BY row_id)"
                )
            }
            fixes = {
                r[0]: r[1]
                for r in self._conn.execute(
                    "SELECT row_id, verdict FROM runs "
                    "WHERE id IN (SELECT MAX(id) FROM runs WHERE purpose = 'fix' AND NOT dropped GROUP BY row_id)"
                )
            }
            claims = self._conn.execute("SELECT * FROM claims").fetchall()
        now = time.time()
        holders = {
            c["row_id"]: c["holder"] for c in claims if c["token"] != self._me.token and is_live(c, self._me, now)
        }
        known = list(rows.keys() | steps.keys() | replications.keys() | fixes.keys() | holders.keys())
        in_file = list(self.dataset.row_numbers(known).items())
        competitions = self._competitions.take(arrow_rows(np.array([row for _, row in in_file], dtype=np.int64)))
        saved = {}
        for (row_id, row), competition in zip(in_file, competitions.to_pylist(), strict=True):
            status, reason = rows.get(row_id, ("untouched", None))
            n_steps, spent = steps.get(row_id, (1, 0.0))
            verdict, match, error_type, starved = replications.get(row_id, (None, None, None, None))
            saved[row] = RowSummary(
                row_id,
                competition,
                status,
                reason,
                n_steps,
                spent,
                verdict,
                match,
                holders.get(row_id),
                error_type,
                fixes.get(row_id),
                starved,
            )
        return Summaries(self.dataset, self._competitions, saved)

    def status_counts(self) -> dict[str, int]:
        """How many rows have each saved status (a row with none is untouched, and not counted)."""
        return {r[0]: r[1] for r in self._read("SELECT status, COUNT(*) FROM rows GROUP BY status")}

    def source(self, row_id: str) -> SourceRow:
        return self.dataset.row(row_id)

    def status(self, row_id: str) -> tuple[str, str | None, str | None]:
        """(status, reject reason, note) of a row."""
        self.dataset.index_of(row_id)
        found = self._read("SELECT status, reject_reason, note FROM rows WHERE row_id = ?", (row_id,))
        return tuple(found[0]) if found else ("untouched", None, None)

    def statuses(self) -> dict[str, tuple[str, str | None, str | None]]:
        """(status, reject reason, note) of every row that has one saved; the others are untouched."""
        return {r[0]: (r[1], r[2], r[3]) for r in self._read("SELECT row_id, status, reject_reason, note FROM rows")}

    def set_status(
        self,
        row_id: str,
        status: str,
        reason: str | None = None,
        note: str | None = None,
        *,
        check_quotes: QuoteChecker | None = None,
    ) -> None:
        """Change a row's status; "done" runs the done check, whose verbatim part is ``check_quotes``."""
        if status not in STATUSES:
            raise InputError(f"unknown status {status!r} (one of: {', '.join(STATUSES)})")
        if status == "rejected" and reason not in REJECT_REASONS:
            raise InputError(
                f"row {row_id!r}: rejecting needs a reason, one of: {', '.join(REJECT_REASONS)}"
                + (f" (got {reason!r})" if reason else "")
            )
        if status != "rejected" and reason is not None:
            raise InputError(f"row {row_id!r}: a reject reason only goes with status 'rejected'")
        with self._lock:
            if status == "done":
                if check_quotes is None:
                    raise ValueError("marking a row done needs check_quotes (tracer_adapter.verbatim.check_analysis)")
                blockers = done_blockers(
                    self.steps(row_id), lambda k: self.quotable_trace_paths(row_id, k), check_quotes
                )
                if blockers:
                    raise InputError(f"row {row_id!r} cannot be done yet: " + "; ".join(blockers))
            with self._write() as conn:
                self._refuse_if_claimed(row_id)
                self._ensure_row(row_id)
                old = conn.execute(
                    "SELECT status, reject_reason, note FROM rows WHERE row_id = ?", (row_id,)
                ).fetchone()
                label = f"{status} ({reason})" if reason else status
                self._log_decision(row_id, None, f"row {row_id}: status {old['status']} -> {label}", {"row": dict(old)})
                conn.execute(
                    "UPDATE rows SET status = ?, reject_reason = ?, note = ?, updated_at = ? WHERE row_id = ?",
                    (status, reason, note, time.time(), row_id),
                )

    # ---- steps

    def steps(self, row_id: str) -> list[Step]:
        self.dataset.index_of(row_id)
        found = self._read(f"SELECT {', '.join(_STEP_COLUMNS)} FROM steps WHERE row_id = ? ORDER BY k", (row_id,))
        if not found:
            return [self._unsaved_step0(row_id)]
        return [_step_from_db(row_id, r) for r in found]

    def saved_steps(self) -> dict[str, list[Step]]:
        """Every saved step of every row, by row id, in step order (unsaved step 0s are left out)."""
        out: dict[str, list[Step]] = {}
        for r in self._read(f"SELECT row_id, {', '.join(_STEP_COLUMNS)} FROM steps ORDER BY row_id, k"):
            out.setdefault(r["row_id"], []).append(_step_from_db(r["row_id"], r))
        return out

    def step(self, row_id: str, k: int = 0) -> Step:
        self.dataset.index_of(row_id)
        found = self._read(f"SELECT {', '.join(_STEP_COLUMNS)} FROM steps WHERE row_id = ? AND k = ?", (row_id, k))
        if found:
            return _step_from_db(row_id, found[0])
        if k == 0:
            return self._unsaved_step0(row_id)
        raise InputError(f"row {row_id!r}: no debug step {k} (it has steps 0..{len(self.steps(row_id)) - 1})")

    def _unsaved_step0(self, row_id: str) -> Step:
        source = self.dataset.row(row_id)
        return unsaved_step0(row_id, source.code, source.term_out)

    def update_step(self, row_id: str, k: int, **fields: Any) -> Step:
        """Save fields of a step; flags set here are set by hand. An edit to a done row puts it back in progress."""
        values = {name: _checked_field(name, value) for name, value in fields.items()}
        with self._write() as conn:
            self._refuse_if_claimed(row_id)
            self._ensure_step(row_id, k)
            old = conn.execute(
                f"SELECT {', '.join(EDITABLE_FIELDS)}, flag_sources FROM steps WHERE row_id = ? AND k = ?",
                (row_id, k),
            ).fetchone()
            values = {name: value for name, value in values.items() if value != old[name]}
            changed = {f: values[f] for f in FLAG_FIELDS if f in values}
            if changed:
                description = ", ".join(f"{f} = {flag_word(v)}" for f, v in changed.items())
                sources = json.loads(old["flag_sources"])
                before = {"step": {**{f: old[f] for f in changed}, "flag_sources": old["flag_sources"]}}
                self._log_decision(row_id, k, f"row {row_id} step {k}: {description}", before)
                sources.update({f: {"hand": self.annotator} for f in changed})
                values["flag_sources"] = json.dumps(sources)
            if values:
                assignments = ", ".join(f"{name} = ?" for name in values)
                conn.execute(
                    f"UPDATE steps SET {assignments}, annotator = ?, updated_at = ? WHERE row_id = ? AND k = ?",
                    (*values.values(), self.annotator, time.time(), row_id, k),
                )
                self._mark_in_progress(row_id)
        return self.step(row_id, k)

    def _mark_in_progress(self, row_id: str) -> None:
        """Work on a row makes it in progress: an untouched row starts, a done row must be checked again."""
        self._conn.execute(
            "UPDATE rows SET status = 'in_progress', updated_at = ? "
            "WHERE row_id = ? AND status IN ('untouched', 'done')",
            (time.time(), row_id),
        )

    def new_step(self, row_id: str) -> Step:
        """Debug step k+1 from step k's fix, which must have been run and ended in a new error.

        Its code is step k's fixed code and its output what that run printed; the
        run proves step k's bug gone (bug_fixed) and step k+1's bug real (bug_confirmed).
        """
        with self._write() as conn:
            self._refuse_if_claimed(row_id)
            self._ensure_step(row_id, 0)
            last = conn.execute(
                "SELECT k, fixed_code, verification, fixable, flag_sources FROM steps "
                "WHERE row_id = ? ORDER BY k DESC LIMIT 1",
                (row_id,),
            ).fetchone()
            k = last["k"]
            record = _verification_from_db(last["verification"], k)
            refusal = new_step_refusal(record, last["fixed_code"])
            if refusal:
                raise InputError(f"row {row_id!r}: cannot start step {k + 1} from step {k}: {refusal}")
            assert record is not None
            now = time.time()
            sources = {**json.loads(last["flag_sources"]), "bug_fixed": {"run": record.id}}
            fixable = _fixable_from_run(last["fixable"], sources, record.id)
            conn.execute(
                "UPDATE steps SET bug_fixed = 1, fixable = ?, flag_sources = ?, updated_at = ? "
                "WHERE row_id = ? AND k = ?",
                (fixable, json.dumps(sources), now, row_id, k),
            )
            conn.execute(
                "INSERT INTO steps(row_id, k, code, observed_output, bug_confirmed, flag_sources, annotator, "
                "created_at, updated_at) VALUES (?, ?, ?, ?, 1, ?, ?, ?, ?)",
                (
                    row_id,
                    k + 1,
                    last["fixed_code"],
                    record.output,
                    json.dumps({"bug_confirmed": {"run": record.id}}),
                    self.annotator,
                    now,
                    now,
                ),
            )
            self._mark_in_progress(row_id)
        return self.step(row_id, k + 1)

    def drop_step(self, row_id: str) -> int:
        """Remove the last debug step (k > 0), made by mistake; its runs stay in the history, marked dropped."""
        with self._write() as conn:
            self._refuse_if_claimed(row_id)
            k = conn.execute("SELECT MAX(k) FROM steps WHERE row_id = ?", (row_id,)).fetchone()[0]
            self.dataset.index_of(row_id)
            if not k:
                raise InputError(f"row {row_id!r}: has only step 0, which cannot be dropped")
            conn.execute("UPDATE runs SET dropped = 1 WHERE row_id = ? AND k = ?", (row_id, k))
            conn.execute("DELETE FROM traces WHERE row_id = ? AND k = ?", (row_id, k))
            conn.execute("DELETE FROM decisions WHERE row_id = ? AND k = ?", (row_id, k))
            conn.execute("DELETE FROM steps WHERE row_id = ? AND k = ?", (row_id, k))
            self._apply_fix_rule(row_id, k - 1)
            self._mark_in_progress(row_id)
        return k

    def add_time(self, row_id: str, k: int, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"time spent cannot be negative ({seconds})")
        with self._write() as conn:
            self._refuse_if_claimed(row_id)
            self._ensure_step(row_id, k)
            conn.execute(
                "UPDATE steps SET time_spent = time_spent + ? WHERE row_id = ? AND k = ?", (float(seconds), row_id, k)
            )

    def last_decision_row(self) -> str | None:
        """The row the latest decision was made on (what undo() with no row reverses), None if none."""
        found = self._read("SELECT row_id FROM decisions ORDER BY id DESC LIMIT 1")
        return found[0][0] if found else None

    def undo(self, row_id: str | None = None) -> str | None:
        """Reverse the latest status or flag decision (of one row, or of any row); returns what it undid."""
        with self._write() as conn:
            if row_id is None:
                decision = conn.execute("SELECT * FROM decisions ORDER BY id DESC LIMIT 1").fetchone()
            else:
                decision = conn.execute(
                    "SELECT * FROM decisions WHERE row_id = ? ORDER BY id DESC LIMIT 1", (row_id,)
                ).fetchone()
            if decision is None:
                return None
            self._refuse_if_claimed(decision["row_id"])
            before = json.loads(decision["before"])
            now = time.time()
            if "row" in before:
                old = before["row"]
                conn.execute(
                    "UPDATE rows SET status = ?, reject_reason = ?, note = ?, updated_at = ? WHERE row_id = ?",
                    (old["status"], old["reject_reason"], old["note"], now, decision["row_id"]),
                )
            else:
                assignments = ", ".join(f"{name} = ?" for name in before["step"])
                conn.execute(
                    f"UPDATE steps SET {assignments}, updated_at = ? WHERE row_id = ? AND k = ?",
                    (*before["step"].values(), now, decision["row_id"], decision["k"]),
                )
                self._mark_in_progress(decision["row_id"])
            conn.execute("DELETE FROM decisions WHERE id = ?", (decision["id"],))
            return decision["description"]

    # ---- runs, grades, traces

    def sweep_leftovers(self) -> None:
        """Remove what killed processes left: export temporaries, run folders whose record was never stored."""
        if is_read_only(self.path / DB_NAME):
            return
        sweep_export_temporaries({self.path, self.dataset.path.parent})
        stored = {r[0] for r in self._read("SELECT json_extract(record, '$.run_dir') FROM runs") if r[0]}
        sweep_orphan_runs(self.path / "runs", stored)

    def run_dir(self, row_id: str, k: int) -> Path:
        """A fresh folder for one run of step k."""
        parent = self.path / "runs" / safe_name(row_id) / f"step{k}"
        parent.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        for n in range(1, 10_000):
            folder = parent / f"{stamp}-{n}"
            try:
                folder.mkdir()
            except FileExistsError:
                continue
            mark_owner(folder)
            return folder
        raise OSError(f"{parent}: no free run folder name")

    def add_run(self, row_id: str, k: int, purpose: str, record: dict) -> int:
        """Store a run and apply what it proves, in one transaction.

        ``record["code_sha256"]`` is the hash of the code the run started,
        computed on the host. A run of the step's buggy code sets
        ``bug_confirmed`` (and a new error becomes the step's output); a "fix"
        run of exactly the step's ``fixed_code`` becomes its verification and
        sets ``bug_fixed`` by the rule in ``run_rules.fix_verdict``.
        """
        if purpose not in RUN_PURPOSES:
            raise ValueError(f"run purpose must be one of {RUN_PURPOSES}, not {purpose!r}")
        verdict = record.get("verdict") or {}
        now = time.time()
        with self._write() as conn:
            self._refuse_if_claimed(row_id)
            self._ensure_step(row_id, k)
            cursor = conn.execute(
                "INSERT INTO runs(row_id, k, purpose, verdict, match, record, created_at, code_sha256) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    row_id,
                    k,
                    purpose,
                    verdict.get("kind"),
                    verdict.get("match"),
                    json.dumps(record),
                    now,
                    record.get("code_sha256"),
                ),
            )
            run_id = cursor.lastrowid
            assert run_id is not None  # set by the INSERT
            step = conn.execute(
                "SELECT code, fixed_code, flag_sources FROM steps WHERE row_id = ? AND k = ?", (row_id, k)
            ).fetchone()
            run = RunRecord.from_json(record, id=run_id, step=k, purpose=purpose, created_at=now)
            if purpose in REPLICATION_PURPOSES and run.code_sha256 == code_sha256(step["code"]):
                self._apply_replication(row_id, k, run, json.loads(step["flag_sources"]))
            elif purpose == "fix" and run.code_sha256 == code_sha256(step["fixed_code"]):
                conn.execute(
                    "UPDATE steps SET verification = ? WHERE row_id = ? AND k = ?",
                    (json.dumps(run.to_json()), row_id, k),
                )
                self._apply_fix_rule(row_id, k)
                self._mark_in_progress(row_id)
        return run_id

    def _apply_replication(self, row_id: str, k: int, run: RunRecord, sources: dict) -> None:
        confirmed = replication_confirms(run)
        if confirmed is None:
            return
        sources["bug_confirmed"] = {"run": run.id}
        assignments = {"bug_confirmed": int(confirmed), "flag_sources": json.dumps(sources)}
        if replication_is_new_bug(run):
            assignments["observed_output"] = run.output  # the new error is the bug to fix (step 2)
        sql = ", ".join(f"{name} = ?" for name in assignments)
        self._conn.execute(
            f"UPDATE steps SET {sql}, updated_at = ? WHERE row_id = ? AND k = ?",
            (*assignments.values(), time.time(), row_id, k),
        )

    def _apply_fix_rule(self, row_id: str, k: int) -> None:
        """Set step k's bug_fixed from its verification, if that is a run of its current fixed code."""
        step = self._conn.execute(
            "SELECT fixed_code, verification, fixable, flag_sources FROM steps WHERE row_id = ? AND k = ?", (row_id, k)
        ).fetchone()
        record = _verification_from_db(step["verification"], k)
        if record is None or record.code_sha256 != code_sha256(step["fixed_code"]):
            return
        followed = self._conn.execute("SELECT 1 FROM steps WHERE row_id = ? AND k = ?", (row_id, k + 1)).fetchone()
        sources = {**json.loads(step["flag_sources"]), "bug_fixed": {"run": record.id}}
        fixed = fix_verdict(record, followed is not None)
        fixable = _fixable_from_run(step["fixable"], sources, record.id) if fixed else step["fixable"]
        self._conn.execute(
            "UPDATE steps SET bug_fixed = ?, fixable = ?, flag_sources = ? WHERE row_id = ? AND k = ?",
            (int(fixed), fixable, json.dumps(sources), row_id, k),
        )

    def runs(self, row_id: str, k: int | None = None) -> list[RunRecord]:
        """The runs of a row (or of one step), oldest first, each with its latest grade or None."""
        sql = f"SELECT {_RUN_COLUMNS} FROM runs WHERE row_id = ?"
        params: tuple = (row_id,)
        if k is not None:  # a dropped step's runs belong to the row's history, not to a later step k
            sql, params = sql + " AND k = ? AND NOT dropped", (row_id, k)
        with self._lock:
            found = self._conn.execute(sql + " ORDER BY id", params).fetchall()
            grades = {
                r[0]: json.loads(r[1])
                for r in self._conn.execute(
                    "SELECT run_id, result FROM grades WHERE run_id IN (SELECT id FROM runs WHERE row_id = ?) ORDER BY id",
                    (row_id,),
                )
            }
        return [_run_from_db(r, grades.get(r["id"])) for r in found]

    def run(self, run_id: int) -> RunRecord:
        """One stored run, with its latest grade; InputError if there is none with that id."""
        with self._lock:
            found = self._conn.execute(f"SELECT {_RUN_COLUMNS} FROM runs WHERE id = ?", (run_id,)).fetchone()
            grade = self._conn.execute(
                "SELECT result FROM grades WHERE run_id = ? ORDER BY id DESC LIMIT 1", (run_id,)
            ).fetchone()
        if found is None:
            raise InputError(f"{self.path}: no run with id {run_id}")
        return _run_from_db(found, json.loads(grade[0]) if grade else None)

    def run_code_hashes(self) -> dict[int, str | None]:
        """Run id -> the SHA-256 of the code it started, for every stored run."""
        return {r[0]: r[1] for r in self._read("SELECT id, code_sha256 FROM runs")}

    def latest_replication(self, row_id: str) -> RunRecord | None:
        """The newest run of a row's recorded code (purpose "original" or "replicate"), or None."""
        replications = [run for run in self.runs(row_id, 0) if run.purpose in REPLICATION_PURPOSES]
        return replications[-1] if replications else None

    def add_grade(self, run_id: int, result: dict) -> None:
        with self._write() as conn:
            run = conn.execute("SELECT row_id, k FROM runs WHERE id = ?", (run_id,)).fetchone()
            if run is None:
                raise InputError(f"{self.path}: no run with id {run_id}")
            self._refuse_if_claimed(run["row_id"])
            conn.execute(
                "INSERT INTO grades(run_id, result, created_at) VALUES (?, ?, ?)",
                (run_id, json.dumps(result), time.time()),
            )
            stored = conn.execute("SELECT verification FROM steps WHERE row_id = ? AND k = ?", tuple(run)).fetchone()[0]
            verification = _verification_from_db(stored, run["k"])
            if verification is not None and verification.id == run_id:
                graded = dataclasses.replace(verification, grade=result)
                conn.execute(
                    "UPDATE steps SET verification = ? WHERE row_id = ? AND k = ?", (json.dumps(graded.to_json()), *run)
                )

    def trace_dir(self, row_id: str, k: int) -> Path:
        """The folder that holds step k's traces (give each trace its own file names)."""
        folder = self.path / "traces" / safe_name(row_id) / f"step{k}"
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def add_trace(
        self, row_id: str, k: int, *, code_sha256: str, trace_path: Path, meta_path: Path, index_path: Path, meta: dict
    ) -> int:
        with self._write() as conn:
            self._refuse_if_claimed(row_id)
            self._ensure_step(row_id, k)
            cursor = conn.execute(
                "INSERT INTO traces(row_id, k, code_sha256, trace_path, meta_path, index_path, meta, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    row_id,
                    k,
                    code_sha256,
                    self._stored(trace_path),
                    self._stored(meta_path),
                    self._stored(index_path),
                    json.dumps(meta),
                    time.time(),
                ),
            )
            trace_id = cursor.lastrowid
            assert trace_id is not None  # set by the INSERT
            return trace_id

    def traces(self, row_id: str, k: int) -> list[TraceRecord]:
        """The traces stored for a row's step k, oldest first."""
        found = self._read(
            "SELECT id, code_sha256, trace_path, meta_path, index_path, meta, created_at "
            "FROM traces WHERE row_id = ? AND k = ? ORDER BY id",
            (row_id, k),
        )
        return [
            TraceRecord(
                id=r["id"],
                code_sha256=r["code_sha256"],
                trace_path=self.path / r["trace_path"],
                meta_path=self.path / r["meta_path"],
                index_path=self.path / r["index_path"],
                meta=TraceMeta.from_json(json.loads(r["meta"])),
                created_at=r["created_at"],
            )
            for r in found
        ]

    def trace_paths(self, row_id: str, k: int) -> list[Path]:
        """The trace files stored for a row's step k, oldest first."""
        return [t.trace_path for t in self.traces(row_id, k)]

    def quotable_trace_paths(self, row_id: str, k: int) -> list[Path]:
        """The trace files step k's cwm_analysis may quote: the traces of its code and of its fixed code."""
        codes = self.step(row_id, k).code_hashes()
        return [t.trace_path for t in self.traces(row_id, k) if t.code_sha256 in codes]

    def _stored(self, path: Path) -> str:
        """Paths inside the workspace are stored relative to it, so a moved workspace keeps its traces."""
        path = Path(path).resolve()
        return str(path.relative_to(self.path.resolve())) if path.is_relative_to(self.path.resolve()) else str(path)

    # ---- claims

    def claim(self, row_id: str) -> bool:
        """Hold a row for editing; False if another live process holds it."""
        with self._write() as conn:
            self.dataset.index_of(row_id)
            claim = conn.execute("SELECT * FROM claims WHERE row_id = ?", (row_id,)).fetchone()
            if claim is not None and claim["token"] != self._me.token and is_live(claim, self._me):
                return False
            conn.execute(
                "INSERT OR REPLACE INTO claims(row_id, holder, host, pid, token, heartbeat) VALUES (?, ?, ?, ?, ?, ?)",
                (row_id, self._me.describe(), self._me.host, self._me.pid, self._me.token, time.time()),
            )
        if self._heartbeat is None:
            self._heartbeat = Heartbeat(self.heartbeat)
        return True

    def release(self, row_id: str) -> None:
        with self._write() as conn:
            conn.execute("DELETE FROM claims WHERE row_id = ? AND token = ?", (row_id, self._me.token))

    def claimed_by(self, row_id: str) -> str | None:
        found = self._read("SELECT * FROM claims WHERE row_id = ?", (row_id,))
        if found and found[0]["token"] != self._me.token and is_live(found[0], self._me):
            return found[0]["holder"]
        return None

    def heartbeat(self) -> None:
        """Mark this process's claims as still held (a background thread calls it while claims exist)."""
        with self._write() as conn:
            conn.execute("UPDATE claims SET heartbeat = ? WHERE token = ?", (time.time(), self._me.token))

    # ---- UI state

    def set_ui_state(self, key: str, value: dict) -> None:
        with self._write() as conn:
            conn.execute("INSERT OR REPLACE INTO ui_state(key, value) VALUES (?, ?)", (key, json.dumps(value)))

    def ui_state(self, key: str) -> dict | None:
        found = self._read("SELECT value FROM ui_state WHERE key = ?", (key,))
        return json.loads(found[0][0]) if found else None

    def close(self) -> None:
        """Release this process's claims and close the database. Safe to call twice."""
        heartbeat, self._heartbeat = self._heartbeat, None
        if heartbeat is not None:
            heartbeat.stop()  # outside the lock: a beat in progress may be waiting for it
        with self._lock:
            if self._closed:
                return
            try:
                with self._write() as conn:
                    conn.execute("DELETE FROM claims WHERE token = ?", (self._me.token,))
            except StorageError:
                pass  # a read-only or full workspace: the claim ages out once the heartbeat stops
            self._conn.close()
            self._closed = True


def _checked_field(name: str, value: Any) -> Any:
    """The database form of one editable step field; a wrong name or type is an InputError."""
    if name in STEP_SOURCE_FIELDS:
        raise InputError(SOURCE_FIELDS_NOT_EDITED)
    if name not in EDITABLE_FIELDS:
        raise InputError(f"unknown step field {name!r} (editable: {', '.join(EDITABLE_FIELDS)})")
    if name in TEXT_FIELDS:
        if not isinstance(value, str):
            raise InputError(f"step field {name!r} must be text, not {type(value).__name__}")
        return value
    if value is None and name == "fixable":
        return None
    if not isinstance(value, bool):
        raise InputError(f"step field {name!r} must be true or false, not {value!r}")
    return int(value)


def _step_from_db(row_id: str, r: sqlite3.Row) -> Step:
    return Step(
        row_id=row_id,
        index=r["k"],
        code=r["code"],
        observed_output=r["observed_output"],
        bug_confirmed=bool(r["bug_confirmed"]),
        fixable=None if r["fixable"] is None else bool(r["fixable"]),
        bug_fixed=bool(r["bug_fixed"]),
        revised_analysis=r["revised_analysis"],
        revised_plan=r["revised_plan"],
        cwm_analysis=r["cwm_analysis"],
        fixed_code=r["fixed_code"],
        verification=_verification_from_db(r["verification"], r["k"]),
        annotator=r["annotator"],
        time_spent=r["time_spent"],
        created_at=r["created_at"],
        updated_at=r["updated_at"],
        flag_sources=json.loads(r["flag_sources"]),
    )


_RUN_COLUMNS = "id, k, purpose, record, created_at, dropped"


def _run_from_db(r: sqlite3.Row, grade: dict | None) -> RunRecord:
    return RunRecord.from_json(
        json.loads(r["record"]),
        id=r["id"],
        step=r["k"],
        purpose=r["purpose"],
        created_at=r["created_at"],
        dropped=bool(r["dropped"]),
        grade=grade,
    )


def _fixable_from_run(fixable: int | None, sources: dict, run_id: int) -> int | None:
    """A run that proves a step's bug fixed proves it fixable: an undecided ``fixable`` becomes 1, by that run
    (noted in ``sources``); one decided by hand stays as it is."""
    if fixable is not None:
        return fixable
    sources["fixable"] = {"run": run_id}
    return 1


def _verification_from_db(stored: str | None, k: int) -> RunRecord | None:
    return verification_from_json(stored, k) if stored else None
