"""Check a deliverable parquet against the contract; every problem found is one Violation.

Each check is a function taking a Deliverable and yielding Violations; adding
a rule is adding one function to FILE_CHECKS (run once over the whole file) or
to WORKSPACE_CHECKS (run on the rows of each workspace, with the workspace that
holds them: a merged file's rows come from several shard workspaces). Row
checks read columns through ``Deliverable.rows``, which gives nothing when a
column they need is missing or mistyped (that is reported once, by the column
check), and numbers each row by its position in the whole file.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from workspace.dataset import REQUIRED_COLUMNS, Dataset, is_text_type, load_dataset
from workspace.done_check import QuoteChecker, step_problems
from workspace.errors import InputError
from workspace.export import ADDED_COLUMNS, WORKSPACE_KEY
from workspace.locate import DB_NAME, default_workspace_dir
from workspace.records import RunRecord, verification_from_json
from workspace.run_rules import code_sha256, replication_confirms
from workspace.shards import MERGED_KEY, split_source
from workspace.store import REPLICATION_PURPOSES, Step, Workspace, open_workspace, unsaved_step0
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
    source: Dataset | None  # given, or the workspace's own dataset, or the one the shards were split from
    workspace: Workspace | None  # holds the traces that cwm_analysis quotes
    check_quotes: QuoteChecker | None = None  # tracer_adapter.verbatim.check_analysis; None skips the check
    bad_columns: set[str] = field(default_factory=set)  # missing, mistyped or repeated; row checks skip them
    positions: np.ndarray | None = None  # the rows' positions in the whole file, when ``table`` holds some of them
    _saved: dict[str, list[Step]] | None = field(default=None, init=False, repr=False)  # the workspace's, read once

    def rows(self, *columns: str) -> Iterator[tuple[int, str | None, int | None, dict]]:
        """(row, id, step, {column: value}) for each row, or nothing if a needed column is unusable."""
        needed = ("id", "debug_step", *columns)
        if self.bad_columns.intersection(needed):
            return
        values = {name: self.table.column(name).to_pylist() for name in dict.fromkeys(needed)}
        for i in range(self.table.num_rows):
            row = i if self.positions is None else int(self.positions[i])
            yield row, values["id"][i], values["debug_step"][i], {name: values[name][i] for name in columns}

    def usable(self, *columns: str) -> tuple[str, ...]:
        """Those of ``columns`` the row checks can read."""
        return tuple(name for name in columns if name not in self.bad_columns)

    def stored_step(self, row_id: str, k: int | None) -> Step | None:
        """Step k of a row as the workspace holds it, or None. Step 0 of a row never saved has nothing
        decided and no code or output read (``created_at`` None): the source row's are those."""
        assert self.workspace is not None
        if self._saved is None:
            self._saved = self.workspace.saved_steps()
        steps = self._saved.get(row_id) or [unsaved_step0(row_id)]
        return next((s for s in steps if s.index == k), None)


@dataclass(frozen=True)
class Validation:
    """What ``check_deliverable`` found, and what it checked the file against."""

    violations: list[Violation]
    source: Path | None  # the dataset the rows were compared with: given, the workspace's own, or the shards'
    workspaces: tuple[Path, ...] = ()  # the workspaces the rows were compared with, each with the rows it holds
    missing: tuple[Path, ...] = ()  # the workspaces the file's metadata names that are not there

    @property
    def workspace(self) -> Path | None:
        """The (first) workspace the file was compared with; None when none was found."""
        return self.workspaces[0] if self.workspaces else None

    def note(self) -> str | None:
        """One line on what could not be checked for want of a workspace or a source, or None."""
        if self.workspaces and not self.missing:
            if self.source is not None:
                return None
            return "note: the shards name no one source dataset that is there (give --source): source rows were not checked"
        if self.missing:
            folders = ", ".join(map(str, self.missing))
            missing = (
                f"the workspace the file names, {folders}, is not there"
                if len(self.missing) == 1
                else f"the workspaces the file names, {folders}, are not there"
            )
        else:
            missing = "no workspace found"
        unchecked = "quotes, runs and texts" if self.source is not None else "quotes, runs, texts and source rows"
        of_rows = (" of its rows" if len(self.missing) == 1 else " of their rows") if self.workspaces else ""
        it = "it" if len(self.missing) <= 1 else "them"
        return f"note: {missing} (give --workspace): {unchecked}{of_rows} were not checked against {it}"


def validate_deliverable(
    path: Path,
    source: Path | None = None,
    workspace: Path | Sequence[Path] | None = None,
    *,
    check_quotes: QuoteChecker | None = None,
) -> list[Violation]:
    """Every violation of the deliverable contract in ``path`` (see :func:`check_deliverable`)."""
    return check_deliverable(path, source, workspace, check_quotes=check_quotes).violations


def check_deliverable(
    path: Path,
    source: Path | None = None,
    workspace: Path | Sequence[Path] | None = None,
    *,
    check_quotes: QuoteChecker | None = None,
) -> Validation:
    """Check the deliverable in ``path`` against the contract.

    ``workspace`` is the workspace, or the workspaces (a merged file's
    shards), holding the traces that cwm_analysis quotes and the annotations
    the file must agree with; each row is checked against the workspace whose
    dataset holds it (default: the workspaces the file's metadata names, those
    found). ``source`` is the dataset every row must come from (default: the
    one workspace's own dataset; for a merged file or several workspaces, the
    dataset the shards were split from, when they all name it and it is there).
    ``check_quotes`` is the verbatim check of quoted trace lines.
    """
    path = Path(path).expanduser()
    if path.is_dir():
        raise InputError(f"{path}: is a folder, not a parquet file")
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    try:
        table = pq.ParquetFile(path).read()
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"{path}: not a readable parquet file ({str(exc).strip().splitlines()[0]})") from None
    given = [workspace] if isinstance(workspace, (str, Path)) else list(workspace or [])
    named = _named_workspaces(path, table) if not given else []  # given workspaces win
    merged = MERGED_KEY in (table.schema.metadata or {})
    with contextlib.ExitStack() as stack:
        opened = [stack.enter_context(ws) for ws in _open_traces_workspaces(named, given)]
        if source is not None:
            dataset: Dataset | None = load_dataset(source)
        elif len(opened) == 1 and not merged:
            dataset = opened[0].dataset
        else:
            dataset = _split_from(opened)
        deliverable = Deliverable(path, table, dataset, None, check_quotes)
        violations: list[Violation] = []
        for check in FILE_CHECKS:
            violations.extend(check(deliverable))
        parts = _by_workspace(deliverable, opened)
        for check in WORKSPACE_CHECKS:
            found = [v for part in parts for v in check(part)]
            violations.extend(sorted(found, key=lambda v: -1 if v.row is None else v.row) if len(parts) > 1 else found)
        return Validation(
            violations,
            dataset.path if dataset is not None else None,
            tuple(ws.path for ws in opened),
            tuple(p for p in named if not p.is_dir()),
        )


def _named_workspaces(path: Path, table: pa.Table) -> list[Path]:
    """The workspaces the file's schema metadata says it came from: the one it was exported from, or the
    shard workspaces it was merged from."""
    metadata = table.schema.metadata or {}
    if WORKSPACE_KEY in metadata:
        return [_folder_path(path, WORKSPACE_KEY, metadata[WORKSPACE_KEY])]
    if MERGED_KEY not in metadata:
        return []
    key = MERGED_KEY.decode()
    try:
        listed = json.loads(metadata[MERGED_KEY])
    except (UnicodeDecodeError, json.JSONDecodeError):
        listed = None
    if not isinstance(listed, list) or not all(isinstance(item, str) for item in listed):
        raise InputError(f"{path}: schema metadata {key!r} is not a JSON list of folder paths; give --workspace")
    return [_folder_path(path, MERGED_KEY, item.encode()) for item in listed]


def _folder_path(path: Path, key_bytes: bytes, recorded: bytes) -> Path:
    key = key_bytes.decode()
    try:
        text = recorded.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{path}: schema metadata {key!r} is not UTF-8 text; give --workspace") from None
    if not text or "\0" in text:
        raise InputError(f"{path}: schema metadata {key!r} is not a folder path ({text!r}); give --workspace")
    return Path(text)


def _open_traces_workspaces(named: list[Path], given: list[Path]) -> list[Workspace]:
    """The given workspaces, else those of the named ones that are there; each once. A given one is a
    workspace folder, or a dataset parquet with its workspace beside it (a shard moved with its workspace)."""
    targets = []
    for workspace in given:
        workspace = Path(workspace).expanduser()
        beside = workspace.is_file() and (default_workspace_dir(workspace.resolve()) / DB_NAME).is_file()
        if not workspace.is_dir() and not beside:  # another parquet would be opened with a new workspace made
            what = "is not a folder" if workspace.exists() else "no such folder"
            raise InputError(
                f"{workspace}: {what}; --workspace is the workspace folder the file was exported from "
                "(or a dataset parquet with its workspace beside it)"
            )
        targets.append(workspace)
    targets += [folder for folder in named if folder.is_dir()]
    opened: dict[Path, Workspace] = {}
    try:
        for target in targets:
            ws = open_workspace(target)
            if ws.path in opened:
                ws.close()
            else:
                opened[ws.path] = ws
    except BaseException:
        for ws in opened.values():
            ws.close()
        raise
    return list(opened.values())


def _split_from(workspaces: list[Workspace]) -> Dataset | None:
    """The dataset the shards in ``workspaces`` were all split from, if they all name the same one and it is
    there; None otherwise (each shard's own dataset holds only its rows)."""
    sources = {split_source(ws.dataset) for ws in workspaces}
    if len(sources) != 1:
        return None
    [source] = sources
    return load_dataset(source) if source is not None and source.is_file() else None


def _by_workspace(d: Deliverable, workspaces: list[Workspace]) -> list[Deliverable]:
    """The file's rows in one part per workspace, with the workspace whose dataset holds them (the first one
    that annotated a row, else the first that holds it: the row merge kept), and a part without one for the
    rows none holds. Each part numbers its rows by their positions in the whole file."""
    if "id" in d.bad_columns or not workspaces:
        return [dataclasses.replace(d, workspace=workspaces[0] if len(workspaces) == 1 else None)]
    ids = d.table.column("id")
    owner = np.full(d.table.num_rows, -1)
    in_order = list(reversed(list(enumerate(workspaces))))  # the last assignment wins: the first workspace's
    for index, ws in in_order:
        owner[_holds(ids, ws.dataset.text_column("id"))] = index
    for index, ws in in_order if len(workspaces) > 1 else []:
        annotated = [row_id for row_id, (status, _, _) in ws.statuses().items() if status != "untouched"]
        if annotated:
            owner[_holds(ids, pa.array(annotated, pa.string()))] = index
    holders: list[tuple[int, Workspace | None]] = [*enumerate(workspaces), (-1, None)]
    parts = []
    for index, holder in holders:
        rows = np.flatnonzero(owner == index)
        if len(rows) == d.table.num_rows:
            parts.append(dataclasses.replace(d, workspace=holder))
        elif len(rows):
            parts.append(dataclasses.replace(d, table=d.table.take(pa.array(rows)), workspace=holder, positions=rows))
    return parts


def _holds(ids: pa.ChunkedArray, held: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Which of ``ids`` are among ``held``, as a boolean array (a null id is held by none)."""
    value_set = held.combine_chunks() if isinstance(held, pa.ChunkedArray) else held
    found = pc.is_in(ids, value_set=value_set.cast(ids.type))
    return pc.fill_null(found, False).to_numpy(zero_copy_only=False)


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
    for name, count in Counter(schema.names).items():
        if count > 1:  # which one a reader takes is anyone's guess
            d.bad_columns.add(name)
            yield Violation(None, None, None, name, f"column appears {count} times")
    for name, wanted in _expected_types(d).items():
        if name in d.bad_columns:
            continue
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


# the source columns that hold a step's own bug: for a step k > 0 they are that step's, not the source row's
_STEP_SOURCE_COLUMNS = ("code", "_term_out")


def check_source_values(d: Deliverable) -> Iterator[Violation]:
    """Each row's source columns hold its source row's values, exactly (a step k > 0 has its own code and
    _term_out). The source is read one batch of rows at a time; a batch's rows are compared column by column
    in arrow, and only a column that differs is looked at value by value."""
    if d.source is None or d.bad_columns.intersection(("id", "debug_step")):
        return
    names = [name for name in d.source.schema.names if name != "id" and name not in d.bad_columns]
    if not names:
        return
    ids, steps = d.table.column("id"), d.table.column("debug_step")
    source_ids = d.source.text_column("id").combine_chunks()
    at = pc.fill_null(pc.index_in(ids, value_set=source_ids), -1).to_numpy()  # source row of each row, -1: none
    step = pc.fill_null(steps, -1).to_numpy()
    order = np.argsort(at, kind="stable")
    order = order[at[order] >= 0]
    in_source = at[order]
    found: list[Violation] = []
    for start, batch in d.source.batches(names):
        first, last = np.searchsorted(in_source, [start, start + batch.num_rows])
        if first == last:
            continue
        rows, source_rows = order[first:last], in_source[first:last] - start
        for name in names:
            taken = rows, source_rows
            if name in _STEP_SOURCE_COLUMNS:
                step0 = step[rows] == 0
                taken = rows[step0], source_rows[step0]
            for row in _differing_rows(d.table.column(name), batch.column(name), *taken):
                found.append(Violation(row, ids[row].as_py(), steps[row].as_py(), name, "differs from the source row"))
    pa.default_memory_pool().release_unused()  # hand back the source batches' buffers before the next checks
    position = {name: i for i, name in enumerate(names)}
    yield from sorted(found, key=lambda v: (v.row, position[v.column or ""]))


def _differing_rows(column: pa.ChunkedArray, source: pa.Array, rows: np.ndarray, source_rows: np.ndarray) -> list[int]:
    """The ``rows`` of ``column`` whose value is not the value at ``source_rows`` of ``source``."""
    if not len(rows):
        return []
    mine = column.take(pa.array(rows)).combine_chunks()
    theirs = source.take(pa.array(source_rows))
    if mine.equals(theirs):
        return []
    return [
        int(row) for row, a, b in zip(rows, mine.to_pylist(), theirs.to_pylist(), strict=True) if not _same_value(a, b)
    ]


def _same_value(a: object, b: object) -> bool:
    """Equal as Python values, a NaN being the same as a NaN (arrow's equals says no to both)."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, (list, tuple)) and type(a) is type(b):
        return len(a) == len(b) and all(_same_value(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_value(a[key], b[key]) for key in a)
    return type(a) is type(b) and a == b


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
            yield Violation(row, row_id, step, "verification", f"is not a JSON run record ({record.reason})")
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
        # with the quote check, a fixable step's analysis must quote the trace (whether verbatim: check_trace_quotes)
        for problem in step_problems([s for _, s, _ in found], None, d.check_quotes, parsed.__getitem__):
            if done or not problem.done_only:
                yield Violation(rows[problem.step], row_id, problem.step, problem.column, problem.message)


@dataclass(frozen=True)
class _Unreadable:
    """A verification cell that is not a JSON run record, and why."""

    reason: str


def _verification(value: str | None, step: int) -> RunRecord | None | _Unreadable:
    if value is None:
        return None
    try:
        return verification_from_json(value, step)
    except (ValueError, TypeError) as exc:
        return _Unreadable(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)


def _text(value: str | bytes | list | None) -> str:
    """A code or _term_out cell as text (AIDE keeps _term_out as a list of strings; binary columns hold bytes)."""
    if isinstance(value, list):
        return "".join(_text(v) for v in value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value or ""


def check_trace_quotes(d: Deliverable) -> Iterator[Violation]:
    """Every cwm_analysis line holding a trace token is a whole line of a trace stored for that row and step,
    of the step's code or of its fixed code."""
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
        known = row_id is not None and row_id in d.workspace.dataset and d.stored_step(row_id, step) is not None
        traces = d.workspace.quotable_trace_paths(row_id, step) if known and row_id and step is not None else []
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
    """Each step's flags and texts are the ones the workspace holds (found, or given)."""
    ws = d.workspace
    if ws is None:
        return
    names = d.usable(*_STORED_FIELDS)
    for row, row_id, step, v in d.rows(*names):
        if row_id is None or row_id not in ws.dataset:
            continue
        stored = d.stored_step(row_id, step)
        if stored is None:
            yield Violation(row, row_id, step, "debug_step", f"the workspace {ws.path} has no such step")
            continue
        for name in names:
            value, held = v[name], getattr(stored, _STORED_FIELDS[name])
            if isinstance(held, str):
                value = value or ""
            if value != held:
                yield Violation(row, row_id, step, name, f"differs from the workspace {ws.path}")


def check_status_against_workspace(d: Deliverable) -> Iterator[Violation]:
    """Each row's status, reject reason and reject note are the ones the workspace holds."""
    ws = d.workspace
    if ws is None:
        return
    statuses = ws.statuses()
    names = d.usable("status", "reject_reason", "reject_note")
    for row, row_id, step, v in d.rows(*names):
        if row_id is None or row_id not in ws.dataset:
            continue
        held = dict(zip(("status", "reject_reason", "reject_note"), statuses.get(row_id, _UNTOUCHED), strict=True))
        for name in names:
            if v[name] != held[name]:
                yield Violation(row, row_id, step, name, f"is {v[name]!r}, the workspace {ws.path} says {held[name]!r}")


_UNTOUCHED = ("untouched", None, None)  # (status, reason, note) of a row the workspace holds nothing for


def check_verification_against_workspace(d: Deliverable) -> Iterator[Violation]:
    """Each step's verifying run is, field for field, the one the workspace holds for the step (what export
    wrote), and that one is the run its runs table holds under the same id: a verdict, an output or a grade
    changed in the file, or in the step's copy of the run, is caught."""
    ws = d.workspace
    if ws is None:
        return
    for row, row_id, step, v in d.rows("verification"):
        if row_id is None or row_id not in ws.dataset:
            continue
        stored = d.stored_step(row_id, step)
        record = _verification(v["verification"], step or 0)
        if stored is None or isinstance(record, _Unreadable):
            continue  # said by check_against_workspace, or by check_verification_column
        held = stored.verification
        if record is None or held is None:
            if record is not None:
                yield Violation(
                    row, row_id, step, "verification", f"the workspace {ws.path} has no verifying run for this step"
                )
            elif held is not None:
                yield Violation(
                    row, row_id, step, "verification", f"is empty, the workspace {ws.path} holds run {held.id}"
                )
            continue
        written = json.loads(v["verification"])
        # the same record, read from JSON that has every field and no other: what export wrote (the fast path)
        if record != held or written.keys() != _RUN_FIELDS:
            differ = _differing_fields(written, held.to_json())
            if differ:
                yield Violation(
                    row,
                    row_id,
                    step,
                    "verification",
                    f"differs from the verifying run {held.id} that the workspace {ws.path} holds "
                    f"(in {', '.join(differ)})",
                )
        problem = _held_run_problem(ws, row_id, step or 0, held)
        if problem:
            yield Violation(row, row_id, step, "verification", problem)


_RUN_FIELDS = {f.name for f in fields(RunRecord)}


def _held_run_problem(ws: Workspace, row_id: str, k: int, held: RunRecord) -> str | None:
    """Why the step's stored verifying run is not the run of that id in the runs table, or None when it is."""
    recorded = next((run for run in ws.runs(row_id, k) if run.id == held.id), None)
    if recorded is None:
        return f"the workspace {ws.path} holds run {held.id} as the verifying run, but that is no run of this step"
    # A verifying run stored by versions before records carried created_at has the default 0.0 there,
    # while the runs table has the time it was stored; every other field is copied from the run when stored.
    old = held.created_at == 0.0
    if held == recorded or (old and dataclasses.replace(held, created_at=recorded.created_at) == recorded):
        return None
    differ = _differing_fields(held.to_json(), recorded.to_json(), ("created_at",) if old else ())
    if not differ:
        return None  # equal but for a NaN, which is not equal to itself
    return (
        f"the workspace {ws.path} holds run {held.id} as the verifying run, but its runs table's record of "
        f"that run differs (in {', '.join(differ)})"
    )


def _differing_fields(mine: dict, theirs: dict, skip: tuple[str, ...] = ()) -> list[str]:
    """The keys whose values differ between two JSON objects (compared as JSON text, so a NaN equals a NaN)."""
    return [
        key
        for key in dict.fromkeys([*mine, *theirs])
        if key not in skip
        and (key not in mine or key not in theirs or _json_text(mine[key]) != _json_text(theirs[key]))
    ]


def _json_text(value: object) -> str:
    return json.dumps(value, sort_keys=True)


def check_rejections(d: Deliverable) -> Iterator[Violation]:
    """A row rejected as not buggy or at the time limit has no confirmed bug in step 0, and (with the
    workspace) a run of step 0's code shows it: for not_buggy a run that proves no bug
    (``run_rules.replication_confirms`` False), for time_limit a run that reached the time limit."""
    ws = d.workspace
    for row, row_id, step, v in d.rows("status", "reject_reason", "bug_confirmed"):
        reason = v["reject_reason"]
        if step != 0 or v["status"] != "rejected" or reason not in _PROVED_REASONS:
            continue
        if v["bug_confirmed"]:
            yield Violation(row, row_id, step, "bug_confirmed", f"is true on a row rejected as {reason!r}")
        if ws is None or row_id is None or row_id not in ws.dataset:
            continue
        stored = d.stored_step(row_id, 0)
        code = code_sha256(
            stored.code if stored is not None and stored.created_at is not None else ws.source(row_id).code
        )
        runs = [r for r in ws.runs(row_id, 0) if r.purpose in REPLICATION_PURPOSES and r.code_sha256 == code]
        if not any(_PROVED_REASONS[reason](r) for r in runs):
            yield Violation(
                row,
                row_id,
                step,
                "reject_reason",
                f"rejected as {reason!r}, but no run of step 0's code in the workspace {ws.path} "
                f"{_PROOF_WORDS[reason]}",
            )


# what a run of a row's code must show for each reject reason that a run proves
_PROVED_REASONS: dict[str, Callable[[RunRecord], bool]] = {
    "not_buggy": lambda run: replication_confirms(run) is False,
    "time_limit": lambda run: run.kind == "time_limit",
}
_PROOF_WORDS = {"not_buggy": "shows it not buggy", "time_limit": "reached the time limit"}


Check = Callable[[Deliverable], Iterator[Violation]]
FILE_CHECKS: list[Check] = [
    check_columns,  # first: it marks the unusable columns the others skip
    check_ids_present,
    check_source_values,
    check_step_numbers,
    check_status,
    check_verification_column,
    check_rows,
]
# run on the rows of each workspace, with it (or with none, on the rows no workspace holds)
WORKSPACE_CHECKS: list[Check] = [
    check_trace_quotes,
    check_rejections,  # from here on the workspace's saved steps are read (once), after check_rows's peak
    check_against_workspace,
    check_status_against_workspace,
    check_verification_against_workspace,
]
CHECKS = FILE_CHECKS + WORKSPACE_CHECKS
