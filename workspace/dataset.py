"""The client's input parquet: read once with pyarrow, checked, then served row by row.

The table is kept exactly as read (extra columns and original types included)
so that the export can write every source column back unchanged.
"""

from __future__ import annotations

import bisect
import hashlib
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from workspace.errors import InputError

REQUIRED_COLUMNS = ("id", "plan", "competition_id", "analysis", "code", "_term_out", "exec_time")
MAX_CELL_BYTES = 16 * 1024 * 1024
_FINGERPRINT_CHUNK = 1 << 20
_ZERO = pa.Array.from_buffers(pa.int64(), 1, [None, pa.py_buffer(bytes(8))])  # [0], built without pandas


@dataclass(frozen=True)
class SourceRow:
    index: int  # 0-based row number in the file
    id: str
    plan: str
    competition_id: str
    analysis: str
    code: str
    term_out: str  # a list of strings is joined with ""; ANSI codes kept as given
    exec_time: float | None


class Dataset:
    """A loaded, checked source table. Build it with :func:`load_dataset`."""

    def __init__(self, path: Path, table: pa.Table) -> None:
        self.path = path
        self.table = table
        self.ids: list[str] = table.column("id").to_pylist()
        self._index = {row_id: i for i, row_id in enumerate(self.ids)}
        self._columns = {name: table.column(name).combine_chunks() for name in REQUIRED_COLUMNS}

    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, row_id: object) -> bool:
        return row_id in self._index

    def index_of(self, row_id: str) -> int:
        try:
            return self._index[row_id]
        except KeyError:
            raise InputError(f"{self.path}: no row with id {row_id!r}") from None

    def row(self, row_id: str) -> SourceRow:
        i = self.index_of(row_id)
        value = {name: self._columns[name][i].as_py() for name in REQUIRED_COLUMNS}
        return SourceRow(
            index=i,
            id=row_id,
            plan=_text(value["plan"]),
            competition_id=_text(value["competition_id"]),
            analysis=_text(value["analysis"]),
            code=_text(value["code"]),
            term_out=_joined(value["_term_out"]),
            exec_time=None if value["exec_time"] is None else float(value["exec_time"]),
        )

    def column_values(self, name: str) -> list[str]:
        """A text column as Python strings, nulls as ""."""
        return [_text(v) for v in self._columns[name].to_pylist()]

    def fingerprint(self) -> str:
        return file_fingerprint(self.path)


def file_fingerprint(path: Path) -> str:
    """The SHA-256 of the whole file: any edit, even one of the same size in the middle, changes it.

    The modification time is left out on purpose, so that copying the file
    (``cp`` without ``-p``, ``rsync``) does not make it look like another dataset;
    callers cache it by ``file_stat_key`` to skip re-reading an unchanged file.
    """
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_FINGERPRINT_CHUNK):
            digest.update(chunk)
    return f"sha256:{digest.hexdigest()}"


def file_stat_key(path: Path) -> str:
    """Size, modification time and inode: while these stay the same, the file's fingerprint is taken as unchanged."""
    st = path.stat()
    return f"{st.st_size}:{st.st_mtime_ns}:{st.st_ino}"


def load_dataset(path: Path) -> Dataset:
    """Read and check a source parquet; every problem is an InputError naming file, row and column."""
    path = Path(path).expanduser()
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        raise InputError(f"{path}: is a folder, not a parquet file")
    try:
        table = pq.ParquetFile(path).read()  # unlike read_table, no pyarrow.dataset (and pandas) import
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"{path}: not a readable parquet file ({_first_line(exc)})") from None
    _check_schema(path, table.schema)
    for name in REQUIRED_COLUMNS:
        _check_cells(path, table, name)
    _check_ids(path, table)
    dataset = Dataset(path.resolve(), table)
    pa.default_memory_pool().release_unused()  # hand back the parquet reader's decompression buffers
    return dataset


def _check_schema(path: Path, schema: pa.Schema) -> None:
    missing = [name for name in REQUIRED_COLUMNS if name not in schema.names]
    if missing:
        raise InputError(f"{path}: missing required column {missing[0]!r} (columns are: {', '.join(schema.names)})")
    for name in REQUIRED_COLUMNS:
        if schema.names.count(name) > 1:
            raise InputError(f"{path}: column {name!r} appears twice")
        kind = schema.field(name).type
        if name == "exec_time":
            ok = pa.types.is_floating(kind) or pa.types.is_integer(kind) or pa.types.is_null(kind)
            wanted = "a number"
        elif name == "id":
            ok = pa.types.is_string(kind) or pa.types.is_large_string(kind)
            wanted = "a string"
        elif name == "_term_out":
            ok = is_text_type(kind) or (_is_list_type(kind) and is_text_type(kind.value_type))
            wanted = "a string or a list of strings"
        else:
            ok = is_text_type(kind)
            wanted = "a string"
        if not ok:
            raise InputError(f"{path}: column {name!r} has type {kind}, expected {wanted}")


def is_text_type(kind: pa.DataType) -> bool:
    return (
        pa.types.is_string(kind)
        or pa.types.is_large_string(kind)
        or pa.types.is_binary(kind)
        or pa.types.is_large_binary(kind)
    )


def _is_list_type(kind: pa.DataType) -> bool:
    return pa.types.is_list(kind) or pa.types.is_large_list(kind)


def _check_cells(path: Path, table: pa.Table, name: str) -> None:
    """Each text cell must be valid UTF-8 and at most MAX_CELL_BYTES (a list cell counts as a whole).

    Only pyarrow compute on arrays: converting to numpy, or Python values to arrow
    (``fill_null(0)``, ``pa.array([0])``), makes pyarrow import pandas, half a second of start-up.
    """
    column = table.column(name).combine_chunks()
    kind = column.type
    if _is_list_type(kind):
        values = column.values
        offsets = column.offsets
    elif is_text_type(kind):
        values, offsets = column, None
    else:
        return
    invalid = _invalid_utf8(values)
    if invalid is not None:
        row = invalid if offsets is None else bisect.bisect_right(offsets.to_pylist(), invalid) - 1
        raise InputError(f"{path}: {_where(table, row)}, column {name!r}: text is not valid UTF-8")
    sizes = pc.binary_length(values).cast(pa.int64())
    valid = pc.is_valid(sizes)
    sizes = pc.if_else(valid, sizes, pc.cast(valid, pa.int64()))  # a null counts as 0 bytes
    if offsets is not None:  # a list cell's size: the sum of its strings, from a running total
        running = pa.concat_arrays([_ZERO, pc.cumulative_sum(sizes)])
        sizes = pc.subtract(pc.take(running, offsets[1:]), pc.take(running, offsets[:-1]))
    largest = pc.max(sizes).as_py() if len(sizes) else None
    if largest is not None and largest > MAX_CELL_BYTES:
        row = pc.index(sizes, largest).as_py()
        raise InputError(
            f"{path}: {_where(table, row)}, column {name!r}: cell is "
            f"{largest / 2**20:.1f} MiB, over the {MAX_CELL_BYTES // 2**20} MiB limit"
        )


def _invalid_utf8(values: pa.Array) -> int | None:
    """Index of the first value that is not valid UTF-8, or None."""
    large = pa.types.is_large_string(values.type) or pa.types.is_large_binary(values.type)
    try:
        values.view(pa.large_string() if large else pa.string()).validate(full=True)
        return None
    except pa.ArrowInvalid:
        pass
    for i, raw in enumerate(values.view(pa.large_binary() if large else pa.binary()).to_pylist()):
        try:
            if raw is not None:
                raw.decode("utf-8")
        except UnicodeDecodeError:
            return i
    return None


def _check_ids(path: Path, table: pa.Table) -> None:
    ids = table.column("id").to_pylist()
    first_seen: dict[str, int] = {}
    for i, row_id in enumerate(ids):
        if row_id is None:
            raise InputError(f"{path}: row {i}, column 'id': id is null")
        if row_id == "":
            raise InputError(f"{path}: row {i}, column 'id': id is empty")
        if row_id in first_seen:
            raise InputError(f"{path}: rows {first_seen[row_id]} and {i}, column 'id': duplicate id {row_id!r}")
        first_seen[row_id] = i


def _where(table: pa.Table, row: int) -> str:
    row_id = table.column("id")[row].as_py()
    return f"row {row} (id {row_id!r})" if isinstance(row_id, str) else f"row {row}"


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return str(value)


def _joined(value: object) -> str:
    if isinstance(value, list):
        return "".join(_text(part) for part in value)
    return _text(value)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
