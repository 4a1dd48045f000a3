"""Check a deliverable parquet against the contract; every problem found is one Violation.

Each check is a function in CHECKS taking a Deliverable and yielding
Violations; adding a rule is adding one function to that list. Row checks
read columns through ``Deliverable.rows``, which gives nothing when a column
they need is missing or mistyped (that is reported once, by the column check).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from workspace.dataset import REQUIRED_COLUMNS, Dataset, is_text_type, load_dataset
from workspace.done_check import QuoteChecker, step_problems
from workspace.errors import InputError
from workspace.export import ADDED_COLUMNS, WORKSPACE_KEY
from workspace.records import RunRecord, verification_from_json
from workspace.store import Step, Workspace, open_workspace
from workspace.syntax import syntax_problems
from workspace.vocabulary import REJECT_REASONS, STATUSES

# the deliverable's columns that make up a step, and the fields of Step they fill
_STEP_FIELDS = {
    "code": "code",
    "_term_out": "observed_output",
    "bug_confirmed": "bug_confirmed",
    "fixable": "fixable",
    "bug_fixed": "bug_fixed",
    "revised_analysis": "revised_analysis",
    "revised_plan": "revised_plan",
    "cwm_analysis": "cwm_analysis",
    "fixed_code": "fixed_code",
}
# what the workspace is compared on, deliverable column -> Step field
_STORED_FIELDS = {name: attr for name, attr in _STEP_FIELDS.items() if name not in ("code", "_term_out")}


@dataclass(frozen=True)
class Violation:
    row: int | None  # 0-based row of the deliverable, None for a file-wide problem
    id: str | None
    step: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.id is not None:
            where.append(f"id {self.id!r}")
        if self.step is not None:
            where.append(f"step {self.step}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        return f"{', '.join(where) or 'file'}: {self.message}"


@dataclass
class Deliverable:
    path: Path
    table: pa.Table
    source: Dataset | None
    workspace: Workspace | None  # holds the traces that cwm_analysis quotes
    check_quotes: QuoteChecker | None = None  # tracer_adapter.verbatim.check_analysis; None skips the check
    bad_columns: set[str] = field(default_factory=set)  # missing or mistyped; row checks skip them

    def rows(self, *columns: str) -> Iterator[tuple[int, str | None, int | None, dict]]:
        """(row, id, step, {column: value}) for each row, or nothing if a needed column is unusable."""
        needed = ("id", "debug_step", *columns)
        if self.bad_columns.intersection(needed):
            return
        values = {name: self.table.column(name).to_pylist() for name in dict.fromkeys(needed)}
        for i in range(self.table.num_rows):
            yield i, values["id"][i], values["debug_step"][i], {name: values[name][i] for name in columns}


def validate_deliverable(
    path: Path,
    source: Path | None = None,
    workspace: Path | None = None,
    *,
    check_quotes: QuoteChecker | None = None,
) -> list[Violation]:
    """Every violation of the deliverable contract in ``path``.

    ``source`` is the dataset every id must come from; ``workspace`` holds the
    traces that cwm_analysis quotes and the annotations the file must agree
    with (default: the workspace it was exported from, when it is found).
    ``check_quotes`` is the verbatim check of quoted trace lines.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    try:
        table = pq.ParquetFile(path).read()
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"{path}: not a readable parquet file ({str(exc).strip().splitlines()[0]})") from None
    ws = _open_traces_workspace(table, workspace)
    try:
        deliverable = Deliverable(path, table, load_dataset(source) if source is not None else None, ws, check_quotes)
        violations: list[Violation] = []
        for check in CHECKS:
            violations.extend(check(deliverable))
        return violations
    finally:
        if ws is not None:
            ws.close()


def _open_traces_workspace(table: pa.Table, workspace: Path | None) -> Workspace | None:
    if workspace is None:
        recorded = (table.schema.metadata or {}).get(WORKSPACE_KEY)
        if recorded is None or not Path(recorded.decode()).is_dir():
            return None
        workspace = Path(recorded.decode())
    return open_workspace(workspace)


def a_string(kind: pa.DataType) -> bool:
    return is_text_type(kind)


def a_string_or_list_of_strings(kind: pa.DataType) -> bool:
    is_list = pa.types.is_list(kind) or pa.types.is_large_list(kind)
    return is_text_type(kind) or (is_list and is_text_type(kind.value_type))


def a_number(kind: pa.DataType) -> bool:
    return pa.types.is_floating(kind) or pa.types.is_integer(kind) or pa.types.is_null(kind)


def an_integer(kind: pa.DataType) -> bool:
    return pa.types.is_integer(kind)


TypeRule = Callable[[pa.DataType], bool]


def _expected_types(d: Deliverable) -> dict[str, TypeRule | pa.DataType]:
    """Column -> its exact type (source columns, when the source is given) or a rule for it."""
    expected: dict[str, TypeRule | pa.DataType] = {}
    if d.source is not None:
        expected.update({f.name: f.type for f in d.source.schema})
    else:
        expected.update({name: a_string for name in REQUIRED_COLUMNS})
        expected["_term_out"] = a_string_or_list_of_strings
        expected["exec_time"] = a_number
    expected.update(ADDED_COLUMNS)
    expected["debug_step"] = an_integer
    return expected


def check_columns(d: Deliverable) -> Iterator[Violation]:
    schema = d.table.schema
    for name, wanted in _expected_types(d).items():
        if name not in schema.names:
            d.bad_columns.add(name)
            yield Violation(None, None, None, name, "column is missing")
            continue
        actual = schema.field(name).type
        ok = actual == wanted if isinstance(wanted, pa.DataType) else wanted(actual)
        if not ok:
            d.bad_columns.add(name)
            expected = str(wanted) if isinstance(wanted, pa.DataType) else wanted.__name__.replace("_", " ")
            yield Violation(None, None, None, name, f"has type {actual}, expected {expected}")


def check_ids_present(d: Deliverable) -> Iterator[Violation]:
    seen: set[str] = set()
    for row, row_id, step, _ in d.rows():
        if row_id is None:
            yield Violation(row, None, step, "id", "id is null")
        else:
            seen.add(row_id)
            if d.source is not None and row_id not in d.source:
                yield Violation(row, row_id, step, "id", "id is not in the source dataset")
    if d.source is not None and "id" not in d.bad_columns:
        for row_id in d.source.ids:
            if row_id not in seen:
                yield Violation(None, row_id, None, "id", f"source row {row_id!r} is missing from the deliverable")


def check_step_numbers(d: Deliverable) -> Iterator[Violation]:
    steps: dict[str, list[int | None]] = {}
    first_row: dict[str, int] = {}
    for row, row_id, step, _ in d.rows():
        if row_id is not None:
            steps.setdefault(row_id, []).append(step)
            first_row.setdefault(row_id, row)
    for row_id, numbers in steps.items():
        if sorted(numbers, key=lambda n: -1 if n is None else n) != list(range(len(numbers))):
            yield Violation(
                first_row[row_id],
                row_id,
                None,
                "debug_step",
                f"debug steps are {numbers}, expected 0..{len(numbers) - 1} once each",
            )


def check_status(d: Deliverable) -> Iterator[Violation]:
    """A known status, the same on every step of a row; a reject reason exactly on rejected rows."""
    first: dict[str | None, str | None] = {}
    for row, row_id, step, v in d.rows("status", "reject_reason"):
        status, reason = v["status"], v["reject_reason"]
        if status not in STATUSES:
            yield Violation(row, row_id, step, "status", f"unknown status {status!r}")
        elif row_id in first and first[row_id] != status:
            yield Violation(row, row_id, step, "status", f"status {status!r}, but step 0 has {first[row_id]!r}")
        first.setdefault(row_id, status)
        if status == "rejected" and reason not in REJECT_REASONS:
            yield Violation(row, row_id, step, "reject_reason", f"rejected, but the reason is {reason!r}")
        if status != "rejected" and reason is not None:
            yield Violation(row, row_id, step, "reject_reason", f"a reject reason on a row that is {status!r}")


def check_verification_column(d: Deliverable) -> Iterator[Violation]:
    """The verification is a run record, and verification_verdict is its verdict."""
    for row, row_id, step, v in d.rows("verification", "verification_verdict"):
        record = _verification(v["verification"], step or 0)
        if isinstance(record, _Unreadable):
            yield Violation(row, row_id, step, "verification", "is not a JSON run record")
        elif v["verification_verdict"] != (kind := record.kind if record else None):
            yield Violation(
                row,
                row_id,
                step,
                "verification_verdict",
                f"is {v['verification_verdict']!r}, but the verification's verdict is {kind!r}",
            )


def check_rows(d: Deliverable) -> Iterator[Violation]:
    """The done rules over each row's steps: every rule on done rows, the always-rules on the others.

    That covers: bug_fixed exactly where the verifying run says so, the hash of
    fixed_code against the run's recorded hash, that fixed_code parses, and
    the chain rule (step k+1's code and _term_out are step k's fix and the
    output of its verifying run).
    """
    by_id: dict[str, list[tuple[int, Step, str]]] = {}
    for row, row_id, step, v in d.rows("status", "verification", *_STEP_FIELDS):
        if row_id is None or step is None:
            continue
        record = _verification(v["verification"], step)
        fields: dict[str, Any] = {
            attr: _text(v[name]) if name in ("code", "_term_out") else v[name] for name, attr in _STEP_FIELDS.items()
        }
        fields["fixed_code"] = fields["fixed_code"] or ""
        for name in ("revised_analysis", "revised_plan", "cwm_analysis"):
            fields[name] = fields[name] or ""
        built = Step(
            row_id=row_id,
            index=step,
            verification=None if isinstance(record, _Unreadable) else record,
            annotator="",
            time_spent=0.0,
            created_at=None,
            updated_at=None,
            **fields,
        )
        by_id.setdefault(row_id, []).append((row, built, v["status"]))
    parsed = syntax_problems([s.fixed_code for steps in by_id.values() for _, s, _ in steps if s.fixed_code.strip()])
    for row_id, found in by_id.items():
        found.sort(key=lambda item: item[1].index)
        if [s.index for _, s, _ in found] != list(range(len(found))):
            continue  # check_step_numbers says so; the chain cannot be read
        rows = {s.index: row for row, s, _ in found}
        done = found[0][2] == "done"
        for problem in step_problems([s for _, s, _ in found], None, None, parsed.__getitem__):
            if done or not problem.done_only:
                yield Violation(rows[problem.step], row_id, problem.step, problem.column, problem.message)


class _Unreadable:
    """A verification cell that is not a JSON run record."""


_UNREADABLE = _Unreadable()


def _verification(value: str | None, step: int) -> RunRecord | None | _Unreadable:
    if value is None:
        return None
    try:
        return verification_from_json(value, step)
    except (ValueError, TypeError):
        return _UNREADABLE


def _text(value: str | bytes | list | None) -> str:
    """A code or _term_out cell as text (AIDE keeps _term_out as a list of strings; binary columns hold bytes)."""
    if isinstance(value, list):
        return "".join(_text(v) for v in value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value or ""


def check_trace_quotes(d: Deliverable) -> Iterator[Violation]:
    """Every cwm_analysis line holding a trace token is a whole line of a trace stored for that row and step."""
    if d.check_quotes is None:
        return
    for row, row_id, step, v in d.rows("cwm_analysis"):
        analysis = v["cwm_analysis"] or ""
        if not analysis.strip():
            continue
        if d.workspace is None:
            if not d.check_quotes(analysis, []):
                continue  # quotes no trace line
            yield Violation(
                row,
                row_id,
                step,
                "cwm_analysis",
                "quotes trace lines, but no workspace holds the traces (give --workspace)",
            )
            continue
        traces = (
            d.workspace.trace_paths(row_id, step)
            if row_id is not None and step is not None and row_id in d.workspace.dataset
            else []
        )
        for problem in d.check_quotes(analysis, traces):
            yield Violation(
                row,
                row_id,
                step,
                "cwm_analysis",
                f"line {problem.line_no} is not a line of "
                f"the step's traces: {problem.line!r}; nearest: {problem.nearest!r}",
            )


def check_against_workspace(d: Deliverable) -> Iterator[Violation]:
    """Each step's flags, texts and verifying run are the ones the workspace holds (found, or given)."""
    ws = d.workspace
    if ws is None:
        return
    saved = ws.saved_steps()
    statuses = ws.statuses()
    hashes = ws.run_code_hashes()
    for row, row_id, step, v in d.rows("status", "verification", *_STORED_FIELDS):
        if row_id is None or row_id not in ws.dataset:
            continue
        stored_steps = saved.get(row_id) or ws.steps(row_id)
        stored = next((s for s in stored_steps if s.index == step), None)
        if stored is None:
            yield Violation(row, row_id, step, "debug_step", f"the workspace {ws.path} has no such step")
            continue
        for name, attr in _STORED_FIELDS.items():
            value = v[name]
            if isinstance(getattr(stored, attr), str):
                value = value or ""
            if value != getattr(stored, attr):
                yield Violation(row, row_id, step, name, f"differs from the workspace {ws.path}")
        status = statuses.get(row_id, ("untouched",))[0]
        if v["status"] != status:
            yield Violation(row, row_id, step, "status", f"is {v['status']!r}, the workspace says {status!r}")
        record = _verification(v["verification"], step or 0)
        if isinstance(record, RunRecord):
            run_id = record.id
            if run_id not in hashes or hashes[run_id] != record.code_sha256:
                yield Violation(
                    row, row_id, step, "verification", f"run {run_id} with that code is not in the workspace {ws.path}"
                )


CHECKS: list[Callable[[Deliverable], Iterator[Violation]]] = [
    check_columns,  # first: it marks the unusable columns the others skip
    check_ids_present,
    check_step_numbers,
    check_status,
    check_verification_column,
    check_rows,
    check_trace_quotes,
    check_against_workspace,
]
