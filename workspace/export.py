"""The deliverable parquet: every source row, one output row per debug step, written atomically."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from workspace.errors import InputError
from workspace.leftovers import sweep_export_temporaries
from workspace.store import Step, Workspace, unsaved_step0

# The columns the export adds to the source columns, with their types.
ADDED_COLUMNS: dict[str, pa.DataType] = {
    "bug_confirmed": pa.bool_(),
    "bug_fixed": pa.bool_(),
    "revised_analysis": pa.string(),
    "revised_plan": pa.string(),
    "cwm_analysis": pa.string(),
    "debug_step": pa.int64(),
    "status": pa.string(),
    "reject_reason": pa.string(),
    "reject_note": pa.string(),
    "fixable": pa.bool_(),  # null while undecided
    "fixed_code": pa.string(),
    "verification_verdict": pa.string(),  # the verifying run's verdict kind; "clean" is a pass
    "verification": pa.string(),  # JSON of the verifying run record, with its grade result if any
    "annotator": pa.string(),
    "time_spent_seconds": pa.float64(),
}

WORKSPACE_KEY = b"nodefix.workspace"  # schema metadata: where the deliverable was exported from


@dataclass(frozen=True)
class ExportSummary:
    path: Path
    rows: int  # rows written (one per debug step)
    source_rows: int
    left_out: int = 0  # source rows whose status --only left out


_ROW_GROUP_ROWS = 65536  # output rows gathered before a row group is written ...
_ROW_GROUP_BYTES = 64 * 2**20  # ... or this many bytes, whichever comes first


def export_deliverable(ws: Workspace, out: Path, only: Collection[str] | None = None) -> ExportSummary:
    """Write the deliverable, streaming the source batch by batch; ``only``: keep rows with these statuses."""
    out = Path(out).expanduser()
    clash = [name for name in ADDED_COLUMNS if name in ws.dataset.schema.names]
    if clash:
        raise InputError(
            f"{ws.dataset.path}: column {clash[0]!r} is already in the source; "
            f"the deliverable adds a column of that name"
        )
    if not out.parent.is_dir():
        raise InputError(f"{out}: cannot write the deliverable (no folder {out.parent})")
    schema = _schema(ws.dataset.schema, ws.path)
    statuses = ws.statuses()
    rows = 0
    with atomic_parquet(out, schema) as write:
        pending: list[pa.Table] = []
        for table in deliverable_tables(ws, schema, statuses, only):
            pending.append(table)
            rows += table.num_rows
            if (
                sum(t.num_rows for t in pending) >= _ROW_GROUP_ROWS
                or sum(t.nbytes for t in pending) >= _ROW_GROUP_BYTES
            ):
                write(pa.concat_tables(pending))
                pending = []
        write(pa.concat_tables(pending) if pending else schema.empty_table())
    pa.default_memory_pool().release_unused()
    return ExportSummary(out, rows, len(ws.dataset), _left_out(len(ws.dataset), statuses, only))


def _left_out(n_rows: int, statuses: dict[str, tuple], only: Collection[str] | None) -> int:
    if only is None:
        return 0
    kept = sum(1 for status in statuses.values() if status[0] in only)
    if "untouched" in only:
        kept += n_rows - len(statuses)  # rows never touched have no saved status
    return n_rows - kept


def deliverable_tables(
    ws: Workspace, schema: pa.Schema, statuses: dict[str, tuple], only: Collection[str] | None = None
) -> Iterator[pa.Table]:
    """The deliverable, one table per source batch (a batch whose rows are all left out yields nothing)."""
    saved = ws.saved_steps()
    for _, batch in ws.dataset.batches():
        order: list[int] = []  # the batch row of each output row
        steps: list[Step] = []
        row_statuses: list[tuple] = []
        for index, row_id in enumerate(batch.column("id").to_pylist()):
            status = statuses.get(row_id, _UNTOUCHED)
            if only is not None and status[0] not in only:
                continue
            for step in saved.get(row_id) or [unsaved_step0(row_id)]:
                order.append(index)
                steps.append(step)
                row_statuses.append(status)
        if order:
            yield _deliverable_batch(batch, schema, order, steps, row_statuses)


_UNTOUCHED = ("untouched", None, None)


def deliverable_table(ws: Workspace) -> pa.Table:
    """The whole deliverable as one table, for merging shards (each small enough to hold)."""
    schema = _schema(ws.dataset.schema, ws.path)
    tables = list(deliverable_tables(ws, schema, ws.statuses()))
    return pa.concat_tables(tables) if tables else schema.empty_table()


def write_atomically(table: pa.Table, out: Path) -> None:
    with atomic_parquet(out, table.schema) as write:
        write(table)


def _deliverable_batch(
    batch: pa.RecordBatch, schema: pa.Schema, order: list[int], steps: list[Step], statuses: list[tuple]
) -> pa.Table:
    taken = pa.array(order, pa.int64())
    columns = {name: batch.column(name).take(taken) for name in batch.schema.names if name not in ("code", "_term_out")}
    later = [i for i, step in enumerate(steps) if step.index > 0]
    for name, texts in (
        ("code", [steps[i].code for i in later]),
        ("_term_out", [steps[i].observed_output for i in later]),
    ):
        columns[name] = _with_later_steps(pa.chunked_array([batch.column(name)]), order, later, texts)
    added = _added_values(steps, statuses)
    for name, kind in ADDED_COLUMNS.items():
        columns[name] = pa.array(added[name], kind)
    return pa.table({name: columns[name] for name in schema.names}, schema=schema)


def _schema(source: pa.Schema, workspace: Path) -> pa.Schema:
    """The source's schema plus the added columns; its metadata names the workspace that holds the traces."""
    metadata = {**(source.metadata or {}), WORKSPACE_KEY: str(workspace.resolve()).encode()}
    return pa.schema(list(source) + [pa.field(name, kind) for name, kind in ADDED_COLUMNS.items()], metadata=metadata)


def _with_later_steps(column: pa.ChunkedArray, order: list[int], later: list[int], texts: list[str]) -> pa.ChunkedArray:
    """The source column in output order, with the texts of steps k > 0 at positions ``later``.

    Step 0 keeps the source value as given; a later step's text takes the
    column's type (bytes for a binary column, its lines with their newlines for
    a list column, as AIDE keeps outputs).
    """
    kind = column.type
    as_list = pa.types.is_list(kind) or pa.types.is_large_list(kind)
    text_kind = kind.value_type if as_list else kind
    binary = pa.types.is_binary(text_kind) or pa.types.is_large_binary(text_kind)

    def typed(text: str) -> str | bytes:
        return text.encode("utf-8") if binary else text

    values = [[typed(line) for line in _lines(text)] for text in texts] if as_list else [typed(t) for t in texts]
    extra = pa.array(values, kind)
    positions = np.array(order, dtype=np.int64)
    positions[later] = len(column) + np.arange(len(later), dtype=np.int64)
    return pa.chunked_array(column.chunks + [extra], kind).take(pa.array(positions))


def _lines(text: str) -> list[str]:
    """``text`` cut after each newline ("\n" only: carriage returns of progress bars stay inside their line)."""
    return re.findall(r"[^\n]*\n|[^\n]+$", text)


def _added_values(steps: list[Step], statuses: list[tuple]) -> dict[str, list]:
    added: dict[str, list] = {name: [] for name in ADDED_COLUMNS}
    for step, (status, reason, note) in zip(steps, statuses, strict=False):
        verification = step.verification
        values = {
            "bug_confirmed": step.bug_confirmed,
            "bug_fixed": step.bug_fixed,
            "revised_analysis": step.revised_analysis,
            "revised_plan": step.revised_plan,
            "cwm_analysis": step.cwm_analysis,
            "debug_step": step.index,
            "status": status,
            "reject_reason": reason,
            "reject_note": note,
            "fixable": step.fixable,
            "fixed_code": step.fixed_code,
            "verification_verdict": verification.kind if verification else None,
            "verification": json.dumps(verification.to_json()) if verification else None,
            "annotator": step.annotator,
            "time_spent_seconds": float(step.time_spent),
        }
        for name, value in values.items():
            added[name].append(value)
    return added


@contextmanager
def atomic_parquet(out: Path, schema: pa.Schema) -> Iterator[Callable[[pa.Table], None]]:
    """Yield a function that appends a table to a temporary file beside ``out``; on success fsync it and
    rename it over ``out``, on any failure remove it. Errors name ``out``, never the temporary file."""
    sweep_export_temporaries([out.parent])  # those of exports that were killed
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("wb") as f:
            with pq.ParquetWriter(f, schema) as writer:
                yield writer.write_table
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, out)
    except (OSError, pa.ArrowException) as exc:
        tmp.unlink(missing_ok=True)
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc).replace(str(tmp), str(out))
        raise InputError(f"{out}: cannot write the deliverable ({reason})") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_folder(out.parent)


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
