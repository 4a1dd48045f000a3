"""The client's input parquet: checked on open, then served row by row, reading only what is asked for.

Opening reads the ids alone; the other columns the queue shows (competition_id,
exec_time) are read whole when first asked for, and a row's fields are read on
demand, one batch of rows of one row group at a time, so a million-row file
opens in a fraction of a second and stays small in memory. Text cells are checked (UTF-8, size) when their batch
is first read; a small file is checked whole on open, as before.
The export streams every source column back unchanged (:meth:`Dataset.batches`).
"""

from __future__ import annotations

import bisect
import hashlib
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from workspace.arrow_numbers import arrow_texts, numpy_rows
from workspace.errors import InputError
from workspace.id_cache import IdCache

REQUIRED_COLUMNS = ("id", "plan", "competition_id", "analysis", "code", "_term_out", "exec_time")
QUEUE_COLUMNS = ("id", "competition_id", "exec_time")  # read whole: the ids on open, the others when asked for
TEXT_COLUMNS = ("plan", "analysis", "code", "_term_out")  # read on demand
ROW_COLUMNS = TEXT_COLUMNS + ("competition_id", "exec_time")  # read with a row's batch
MAX_CELL_BYTES = 16 * 1024 * 1024
_FINGERPRINT_CHUNK = 1 << 20
BATCH_ROWS = 1024  # rows read together when a row's text is needed
CHECK_ON_OPEN_ROWS = 100_000  # a file this small (in rows and in bytes) has its text checked whole on open;
CHECK_ON_OPEN_BYTES = 256 * 2**20  # bytes as stored, uncompressed (a dictionary-encoded column decodes to more)
_SCANS_BEFORE_INDEX = 64  # id lookups by scan before a dict of every id is built
_CANDIDATES_SHOWN = 5  # ids listed when an id prefix is ambiguous
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


class RowIds(Sequence):
    """The ids in file order, as a read-only sequence over the arrow array (no list of a million strings)."""

    def __init__(self, ids: pa.ChunkedArray) -> None:
        self._ids = ids

    def __len__(self) -> int:
        return len(self._ids)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return self._ids[i].to_pylist()
        return self._ids[i].as_py()

    def __iter__(self) -> Iterator[str]:
        for start in range(0, len(self._ids), 65536):
            yield from self._ids[start : start + 65536].to_pylist()

    def index(self, value: object, start: int = 0, stop: int | None = None) -> int:
        """Like list.index, by one scan in C instead of a Python loop over a million values."""
        if isinstance(value, str):
            hits = pc.indices_nonzero(pc.equal(self._ids[start:stop], _text_scalar(value, self._ids.type)))
            if len(hits):
                return start + hits[0].as_py()
        raise ValueError(f"{value!r} is not in the ids")

    def __contains__(self, value: object) -> bool:
        try:
            self.index(value)
            return True
        except ValueError:
            return False

    def __eq__(self, other: object) -> bool:
        return list(self) == list(other) if isinstance(other, Sequence) else NotImplemented

    __hash__ = None  # type: ignore[assignment]


class Dataset:
    """A checked source table, read lazily. Build it with :func:`load_dataset`."""

    def __init__(self, path: Path, file: pq.ParquetFile, queue: pa.Table) -> None:
        self.path = path
        self.schema: pa.Schema = file.schema_arrow
        self._file = file
        self._id_array = queue.column("id")  # chunked, one chunk per row group: combining would copy
        self.ids = RowIds(self._id_array)
        self._queue = {name: queue.column(name) for name in queue.column_names}  # the others: see _column
        self._found: dict[str, int] = {}  # ids looked up so far; all of them once lookups are many
        self._scans = 0
        sizes = [file.metadata.row_group(g).num_rows for g in range(file.metadata.num_row_groups)]
        self._group_starts = [sum(sizes[:g]) for g in range(len(sizes) + 1)]
        self._lock = threading.Lock()  # the app reads rows from worker threads; one reader at a time
        self._batch: tuple[int, pa.RecordBatch] | None = None  # (first row, text columns) last read

    def __len__(self) -> int:
        return len(self._id_array)

    def __contains__(self, row_id: object) -> bool:
        return isinstance(row_id, str) and self._find(row_id) is not None

    def _find(self, row_id: str) -> int | None:
        """The row of an id: a scan of the id array (milliseconds for a million), remembered; after
        _SCANS_BEFORE_INDEX scans (a command going through every row) every id is put in the dict at once."""
        found = self._found.get(row_id)
        if found is not None or self._scans > _SCANS_BEFORE_INDEX:
            return found
        self._scans += 1
        if self._scans > _SCANS_BEFORE_INDEX:
            self._found = {value: i for i, value in enumerate(self.ids)}
            return self._found.get(row_id)
        at = pc.index(self._id_array, _text_scalar(row_id, self._id_array.type)).as_py()
        if at < 0:
            return None
        self._found[row_id] = at
        return at

    def index_of(self, row_id: str) -> int:
        found = self._find(row_id)
        if found is None:
            raise InputError(f"{self.path}: no row with id {row_id!r}")
        return found

    def ids_starting_with(self, prefix: str) -> pa.Array:
        """The ids that start with ``prefix``, in file order."""
        return pc.filter(self._id_array, pc.starts_with(self._id_array, pattern=prefix))

    def resolve_id(self, text: str) -> str:
        """The id ``text`` names: itself, or the one id it is a prefix of (as the queue shows ids cut short)."""
        if text in self:
            return text
        found = self.ids_starting_with(text)
        if len(found) == 1:
            return found[0].as_py()
        if not len(found):
            raise InputError(f"{self.path}: no row with id {text!r}, nor one that starts with it")
        shown = ", ".join(found[:_CANDIDATES_SHOWN].to_pylist())
        more = f", ... ({len(found)} in all)" if len(found) > _CANDIDATES_SHOWN else ""
        raise InputError(f"{self.path}: id prefix {text!r} is ambiguous, it starts {shown}{more}")

    def row(self, row_id: str) -> SourceRow:
        i = self.index_of(row_id)
        text = self._fields_at(i)
        exec_time = text["exec_time"]
        return SourceRow(
            index=i,
            id=row_id,
            plan=_text(text["plan"]),
            competition_id=_text(text["competition_id"]),
            analysis=_text(text["analysis"]),
            code=_text(text["code"]),
            term_out=_joined(text["_term_out"]),
            exec_time=None if exec_time is None else float(exec_time),
        )

    def _fields_at(self, i: int) -> dict[str, Any]:
        with self._lock:
            if self._batch is None or not self._batch[0] <= i < self._batch[0] + self._batch[1].num_rows:
                self._batch = self._read_batch_of(i)
            first, batch = self._batch
            return {name: batch.column(name)[i - first].as_py() for name in ROW_COLUMNS}

    def _read_batch_of(self, i: int) -> tuple[int, pa.RecordBatch]:
        group = bisect.bisect_right(self._group_starts, i) - 1
        first = self._group_starts[group]
        wanted = (i - first) // BATCH_ROWS
        for n, batch in enumerate(self._iter(group, ROW_COLUMNS)):
            if n == wanted:
                start = first + n * BATCH_ROWS
                check_text(self, batch, start)
                return start, batch
        raise AssertionError(f"row {i} is not in row group {group}")  # the footer's row counts say it is

    def _iter(self, group: int, columns: Sequence[str]) -> Iterator[pa.RecordBatch]:
        try:
            yield from self._file.iter_batches(BATCH_ROWS, row_groups=[group], columns=list(columns), use_threads=False)
        except (pa.ArrowException, OSError) as exc:
            raise InputError(f"{self.path}: row group {group} is not readable ({_first_line(exc)})") from None

    def batches(self, columns: Sequence[str] | None = None) -> Iterator[tuple[int, pa.RecordBatch]]:
        """(first row, batch) over the whole file in order, ``columns`` only (default: all), text cells checked."""
        names = list(self.schema.names if columns is None else columns)
        checked = [name for name in TEXT_COLUMNS if name in names]
        for group in range(len(self._group_starts) - 1):
            start = self._group_starts[group]
            for batch in self._iter(group, names):
                check_text(self, batch, start, checked)
                yield start, batch
                start += batch.num_rows

    def _column(self, name: str) -> pa.ChunkedArray:
        """One of QUEUE_COLUMNS, whole: read the first time it is asked for (``nodefix show`` needs none)."""
        with self._lock:
            if name not in self._queue:
                try:
                    self._queue[name] = self._file.read(columns=[name], use_threads=False).column(name)
                except (pa.ArrowException, OSError) as exc:
                    raise InputError(f"{self.path}: column {name!r} is not readable ({_first_line(exc)})") from None
            return self._queue[name]

    def text_column(self, name: str) -> pa.ChunkedArray:
        """A text column of QUEUE_COLUMNS (id, competition_id) as arrow strings, nulls as ""."""
        column = self._column(name)
        if not pa.types.is_string(column.type) and not pa.types.is_large_string(column.type):
            column = pc.cast(column, pa.string())  # binary, checked to be UTF-8 on open
        return pc.fill_null(column, _text_scalar("", column.type)) if column.null_count else column

    def column_values(self, name: str) -> list[str]:
        """A text column as Python strings, nulls as ""."""
        if name in QUEUE_COLUMNS:
            return self.text_column(name).to_pylist()  # a million strings: no per-value call
        return [_text(v) for _, batch in self.batches([name]) for v in batch.column(name).to_pylist()]

    def row_numbers(self, row_ids: Sequence[str]) -> dict[str, int]:
        """The row of each of ``row_ids`` that the file has: one pass over the ids in C, hashing only these."""
        if not row_ids:
            return {}
        rows = pc.indices_nonzero(pc.is_in(self._id_array, value_set=arrow_texts(row_ids, self._id_array.type)))
        return dict(zip(self._id_array.take(rows).to_pylist(), rows.to_pylist(), strict=True))

    def rows_equal(self, name: str, value: str) -> np.ndarray:
        """The rows (ascending) whose ``name`` column (one read on open) is ``value``."""
        column = self.text_column(name)
        return numpy_rows(pc.indices_nonzero(pc.equal(column, _text_scalar(value, column.type))))

    def exec_times(self) -> list[float]:
        """Every row's recorded exec_time in seconds, a missing or negative one as 0."""
        values = self._column("exec_time").cast(pa.float64()).fill_null(0.0).to_pylist()
        return [max(0.0, v) for v in values]

    def matching_rows(self, text: str, columns: Sequence[str]) -> np.ndarray:
        """The rows (ascending) whose ``columns`` contain ``text`` (any case), read batch by batch."""
        found = [np.zeros(0, dtype=np.int64)]
        for start, batch in self.batches(list(columns)):
            mask = None
            for name in columns:
                column = batch.column(name)
                if not pa.types.is_string(column.type) and not pa.types.is_large_string(column.type):
                    column = pc.cast(column, pa.string())
                hits = pc.match_substring(column, text, ignore_case=True)  # null for a null cell
                mask = hits if mask is None else pc.or_kleene(mask, hits)
            found.append(numpy_rows(pc.indices_nonzero(mask)) + start)  # a null counts as no hit
        return np.concatenate(found)

    def fingerprint(self) -> str:
        return file_fingerprint(self.path)

    def keep_ids(self, cache: IdCache) -> None:
        """Write the ids to ``cache``, for the next open of a workspace made from this file."""
        cache.write(self._id_array)


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


def load_dataset(
    path: Path,
    check_on_open_bytes: int = CHECK_ON_OPEN_BYTES,
    *,
    checked: bool = False,
    id_cache: IdCache | None = None,
) -> Dataset:
    """Open and check a source parquet; every problem is an InputError naming file, row and column.

    Text cells are checked now when the file is small (``CHECK_ON_OPEN_ROWS``, ``check_on_open_bytes``),
    else batch by batch as they are read. ``checked``: the caller knows this very file passed the
    whole-file checks before (a workspace made from it), so the ids are not counted again, and are
    taken from ``id_cache`` when it holds them (the ids read are kept there for the next open).
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        raise InputError(f"{path}: is a folder, not a parquet file")
    try:
        file = pq.ParquetFile(path)  # unlike read_table, no pyarrow.dataset (and pandas) import
        _check_schema(path, file.schema_arrow)
        id_cache = id_cache if checked else None  # only a file the workspace was made from has its ids there
        cached = id_cache.read(file.metadata.num_rows) if id_cache is not None else None
        if cached is not None:
            queue = pa.table({"id": cached})
        else:
            queue = file.read(columns=["id"] if checked else ["id", "competition_id"], use_threads=False)
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"{path}: not a readable parquet file ({_first_line(exc)})") from None
    ids = queue.column("id")
    if not checked:
        start = 0
        for chunk in queue.column("competition_id").chunks:
            _check_cells(path, ids, chunk, "competition_id", start)
            start += len(chunk)
        _check_ids(path, ids)
    dataset = Dataset(path.resolve(), file, queue)
    if not checked and len(dataset) <= CHECK_ON_OPEN_ROWS and _text_bytes(file) <= check_on_open_bytes:
        for _ in dataset.batches(TEXT_COLUMNS):
            pass
    if id_cache is not None and cached is None:
        dataset.keep_ids(id_cache)
    pa.default_memory_pool().release_unused()  # hand back the parquet reader's decompression buffers
    return dataset


def _text_bytes(file: pq.ParquetFile) -> int:
    meta = file.metadata
    text = {i for i in range(meta.num_columns) if meta.schema.column(i).path.split(".")[0] in TEXT_COLUMNS}
    return sum(meta.row_group(g).column(i).total_uncompressed_size for g in range(meta.num_row_groups) for i in text)


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


def check_text(dataset: Dataset, batch: pa.RecordBatch, start: int, names: Sequence[str] = TEXT_COLUMNS) -> None:
    """Check the text cells of a batch whose first row is row ``start`` of the file."""
    for name in names:
        _check_cells(dataset.path, dataset._id_array, batch.column(name), name, start)


def _check_cells(path: Path, ids: pa.ChunkedArray, column: pa.Array, name: str, start: int) -> None:
    """Each text cell must be valid UTF-8 and at most MAX_CELL_BYTES (a list cell counts as a whole).

    Only pyarrow compute on arrays: converting to numpy, or Python values to arrow
    (``fill_null(0)``, ``pa.array([0])``), makes pyarrow import pandas, half a second of start-up.
    """
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
        raise InputError(f"{path}: {_where(ids, start + row)}, column {name!r}: text is not valid UTF-8")
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
            f"{path}: {_where(ids, start + row)}, column {name!r}: cell is "
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


def _check_ids(path: Path, ids: pa.ChunkedArray) -> None:
    """No null, empty or duplicate id (pyarrow counts first; the loop naming the row runs only on a problem)."""
    shortest = pc.min(pc.binary_length(ids)).as_py() if len(ids) else 1
    if ids.null_count == 0 and shortest > 0 and len(pc.unique(ids)) == len(ids):
        return
    first_seen: dict[str, int] = {}
    for i, row_id in enumerate(ids.to_pylist()):
        if row_id is None:
            raise InputError(f"{path}: row {i}, column 'id': id is null")
        if row_id == "":
            raise InputError(f"{path}: row {i}, column 'id': id is empty")
        if row_id in first_seen:
            raise InputError(f"{path}: rows {first_seen[row_id]} and {i}, column 'id': duplicate id {row_id!r}")
        first_seen[row_id] = i


def _text_scalar(text: str, kind: pa.DataType) -> pa.Scalar:
    """An arrow string scalar built from buffers: ``pa.scalar(text)`` would import pandas (seconds, on a busy box)."""
    return arrow_texts([text], kind)[0]


def _where(ids: pa.ChunkedArray, row: int) -> str:
    row_id = ids[row].as_py()
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
