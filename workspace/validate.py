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

import pyarrow as pa
import pyarrow.parquet as pq

from workspace.dataset import REQUIRED_COLUMNS, Dataset, is_text_type, load_dataset
from workspace.errors import InputError
from workspace.export import ADDED_COLUMNS, WORKSPACE_KEY
from workspace.placeholders import check_placeholders
from workspace.store import Workspace, open_workspace
from workspace.syntax import syntax_problem
from workspace.vocabulary import PASSING_VERDICT


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
    bad_columns: set[str] = field(default_factory=set)  # missing or mistyped; row checks skip them

    def rows(self, *columns: str) -> Iterator[tuple[int, str | None, int | None, dict]]:
        """(row, id, step, {column: value}) for each row, or nothing if a needed column is unusable."""
        needed = ("id", "debug_step", *columns)
        if self.bad_columns.intersection(needed):
            return
        values = {name: self.table.column(name).to_pylist() for name in dict.fromkeys(needed)}
        for i in range(self.table.num_rows):
            yield i, values["id"][i], values["debug_step"][i], {name: values[name][i] for name in columns}


def validate_deliverable(path: Path, source: Path | None = None, workspace: Path | None = None) -> list[Violation]:
    """Every violation of the deliverable contract in ``path``.

    ``source`` is the dataset every id must come from; ``workspace`` holds the
    traces that cwm_analysis quotes (default: the workspace it was exported from).
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
        deliverable = Deliverable(path, table, load_dataset(source) if source is not None else None, ws)
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
        expected.update({f.name: f.type for f in d.source.table.schema})
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


def check_fixed_has_code(d: Deliverable) -> Iterator[Violation]:
    for row, row_id, step, v in d.rows("bug_fixed", "fixed_code"):
        if v["bug_fixed"] and not (v["fixed_code"] or "").strip():
            yield Violation(row, row_id, step, "fixed_code", "bug_fixed is true but fixed_code is empty")


def check_fixed_is_verified(d: Deliverable) -> Iterator[Violation]:
    for row, row_id, step, v in d.rows("bug_fixed", "verification_verdict"):
        if v["bug_fixed"] and v["verification_verdict"] != PASSING_VERDICT:
            yield Violation(
                row,
                row_id,
                step,
                "verification_verdict",
                f"bug_fixed is true but the verification verdict is {v['verification_verdict']!r}, "
                f"not {PASSING_VERDICT!r}",
            )


def check_not_fixable_has_reason(d: Deliverable) -> Iterator[Violation]:
    for row, row_id, step, v in d.rows("fixable", "revised_analysis"):
        if v["fixable"] is False and not (v["revised_analysis"] or "").strip():
            yield Violation(
                row, row_id, step, "revised_analysis", "fixable is false but revised_analysis does not say why"
            )


def check_fixed_code_parses(d: Deliverable) -> Iterator[Violation]:
    for row, row_id, step, v in d.rows("fixed_code"):
        if (v["fixed_code"] or "").strip():
            problem = syntax_problem(v["fixed_code"])
            if problem:
                yield Violation(row, row_id, step, "fixed_code", f"fixed code does not parse ({problem})")


def check_trace_quotes(d: Deliverable) -> Iterator[Violation]:
    """Every cwm_analysis line holding a trace token is a whole line of a trace stored for that row and step."""
    from tracer_adapter.verbatim import check_analysis, quoted_lines  # the one allowed upward import, kept lazy

    for row, row_id, step, v in d.rows("cwm_analysis"):
        analysis = v["cwm_analysis"] or ""
        if not quoted_lines(analysis):
            continue
        if d.workspace is None:
            yield Violation(
                row,
                row_id,
                step,
                "cwm_analysis",
                "quotes trace lines, but no workspace holds the traces (give --workspace)",
            )
            continue
        traces = d.workspace.trace_paths(row_id, step) if row_id in d.workspace.dataset else []
        for problem in check_analysis(analysis, traces):
            yield Violation(
                row,
                row_id,
                step,
                "cwm_analysis",
                f"line {problem.line_no} is not a line of "
                f"the step's traces: {problem.line!r}; nearest: {problem.nearest!r}",
            )


CHECKS: list[Callable[[Deliverable], Iterator[Violation]]] = [
    check_columns,  # first: it marks the unusable columns the others skip
    check_ids_present,
    check_step_numbers,
    check_fixed_has_code,
    check_fixed_is_verified,
    check_not_fixable_has_reason,
    check_fixed_code_parses,
    check_trace_quotes,
    check_placeholders,
]
