"""The deliverable parquet: every source row, one output row per debug step, written atomically."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from workspace.errors import InputError
from workspace.leftovers import sweep_export_temporaries
from workspace.store import Step, Workspace

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


def export_deliverable(ws: Workspace, out: Path) -> ExportSummary:
    out = Path(out).expanduser()
    clash = [name for name in ADDED_COLUMNS if name in ws.dataset.table.column_names]
    if clash:
        raise InputError(
            f"{ws.dataset.path}: column {clash[0]!r} is already in the source; "
            f"the deliverable adds a column of that name"
        )
    table = deliverable_table(ws)
    write_atomically(table, out)
    rows = table.num_rows
    del table
    pa.default_memory_pool().release_unused()
    return ExportSummary(out, rows, len(ws.dataset))


def deliverable_table(ws: Workspace) -> pa.Table:
    saved = ws.saved_steps()
    statuses = ws.statuses()
    order: list[int] = []  # the source row of each output row
    steps: list[Step] = []
    for index, row_id in enumerate(ws.dataset.ids):
        for step in saved.get(row_id) or ws.steps(row_id):
            order.append(index)
            steps.append(step)
    source = ws.dataset.table
    taken = pa.array(order, pa.int64())
    columns = {
        name: source.column(name).take(taken) for name in source.column_names if name not in ("code", "_term_out")
    }
    later = [i for i, step in enumerate(steps) if step.index > 0]
    columns["code"] = _with_later_steps(source.column("code"), order, later, [steps[i].code for i in later])
    columns["_term_out"] = _with_later_steps(
        source.column("_term_out"), order, later, [steps[i].observed_output for i in later]
    )
    added = _added_values(steps, [statuses.get(step.row_id, ("untouched", None, None)) for step in steps])
    for name, kind in ADDED_COLUMNS.items():
        columns[name] = pa.array(added[name], kind)
    schema = _schema(source.schema, ws.path)
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
            "verification_verdict": (verification.get("verdict") or {}).get("kind") if verification else None,
            "verification": json.dumps(verification) if verification else None,
            "annotator": step.annotator,
            "time_spent_seconds": float(step.time_spent),
        }
        for name, value in values.items():
            added[name].append(value)
    return added


def write_atomically(table: pa.Table, out: Path) -> None:
    """Write to a temporary file in the same folder, fsync it, then rename it over ``out``."""
    sweep_export_temporaries([out.parent])  # those of exports that were killed
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("wb") as f:
            pq.write_table(table, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, out)
    except (OSError, pa.ArrowException) as exc:
        tmp.unlink(missing_ok=True)
        raise InputError(f"{out}: cannot write the deliverable ({exc})") from None
    _fsync_folder(out.parent)


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
