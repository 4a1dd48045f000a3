"""A dataset split into shards for a team, and the annotated shards merged back into one deliverable.

``split`` deals every source row into exactly one of N shards: each
competition's rows, longest recorded ``exec_time`` first (ties by id), go one
by one to the shard with the fewest of that competition, then the fewest rows,
then the least recorded time, so every shard gets its share of each
competition, of the rows and of the run time, and the same dataset always
splits the same way. Shard ``i`` is ``DIR/part-i/dataset.parquet`` with a
``nodefix.toml`` beside it (the source's project file, its paths made
absolute); its parquet metadata names the source and the part.

``merge`` takes the shard workspaces, exports each one's deliverable rows and
keeps every source row exactly once: from the workspace that annotated it (or
any, if none did). A row annotated in two workspaces is a conflict, refused
unless ``prefer`` names the workspace that wins; a source row in no workspace
names the shard it belongs to. The merged file's metadata lists the workspaces
read (MERGED_KEY, the preferred one first), so ``validate`` can check each row
against the workspace it came from.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from workspace.config import PROJECT_FILE, tomllib
from workspace.dataset import Dataset, file_fingerprint, load_dataset
from workspace.errors import InputError
from workspace.export import WORKSPACE_KEY, atomic_parquet, deliverable_table, write_atomically
from workspace.store import open_workspace

SPLIT_KEY = b"nodefix.split"  # shard parquet metadata: {"source", "fingerprint", "part", "parts"}
MERGED_KEY = b"nodefix.workspaces"  # merged deliverable metadata: JSON list of the workspace folders read
SHARD_FILE = "dataset.parquet"


@dataclass(frozen=True)
class Shard:
    part: int  # 1-based
    path: Path
    rows: int
    exec_seconds: float  # recorded exec_time of its rows, summed


def split_dataset(source: Path, parts: int, out: Path) -> list[Shard]:
    """Write ``parts`` shard folders under ``out``; refuses to overwrite shards already there."""
    if parts < 1:
        raise InputError(f"--parts must be at least 1, not {parts}")
    dataset = load_dataset(source)
    if parts > len(dataset):
        raise InputError(f"{dataset.path}: {len(dataset)} rows cannot fill {parts} parts")
    folders = [out / f"part-{i}" for i in range(1, parts + 1)]
    taken = [f for f in folders if (f / SHARD_FILE).exists()]
    if taken:
        raise InputError(f"{taken[0] / SHARD_FILE}: already exists; split into an empty folder")
    assignment = assign_parts(dataset, parts)
    config_text = _project_file_with_absolute_paths(dataset.path.parent / PROJECT_FILE)
    fingerprint = file_fingerprint(dataset.path)
    exec_times = dataset.exec_times()
    parts_of_rows = pa.array(assignment, pa.int64())
    with contextlib.ExitStack() as stack:
        writers = []
        for part, folder in enumerate(folders, start=1):
            meta = {"source": str(dataset.path), "fingerprint": fingerprint, "part": part, "parts": parts}
            schema = dataset.schema.with_metadata(
                {**(dataset.schema.metadata or {}), SPLIT_KEY: json.dumps(meta).encode()}
            )
            folder.mkdir(parents=True, exist_ok=True)
            writers.append(stack.enter_context(atomic_parquet(folder / SHARD_FILE, schema)))
        for start, batch in dataset.batches():  # streamed: a shard of a large dataset is never held whole
            batch_parts = parts_of_rows.slice(start, batch.num_rows)
            for part, write in enumerate(writers, start=1):
                rows = batch.filter(pc.equal(batch_parts, part))
                if rows.num_rows:
                    write(pa.Table.from_batches([rows]))
    rows_in = [0] * (parts + 1)
    seconds_in = [0.0] * (parts + 1)
    for part, seconds in zip(assignment, exec_times, strict=True):
        rows_in[part] += 1
        seconds_in[part] += seconds
    shards = []
    for part, folder in enumerate(folders, start=1):
        if config_text is not None:
            (folder / PROJECT_FILE).write_text(config_text, encoding="utf-8")
        shards.append(Shard(part, folder / SHARD_FILE, rows_in[part], seconds_in[part]))
    return shards


def assign_parts(dataset: Dataset, parts: int) -> list[int]:
    """The part (1-based) of each source row, in file order."""
    ids = dataset.ids
    exec_times = dataset.exec_times()
    competitions = dataset.column_values("competition_id")
    by_competition: dict[str, list[int]] = defaultdict(list)
    for i, competition in enumerate(competitions):
        by_competition[competition].append(i)
    load = [0.0] * parts
    count = [0] * parts
    assignment = [0] * len(ids)
    for competition in sorted(by_competition):
        in_competition = [0] * parts
        for i in sorted(by_competition[competition], key=lambda i: (-exec_times[i], ids[i])):
            # fewest of this competition first, then fewest rows, then least recorded time
            part = min(range(parts), key=lambda p: (in_competition[p], count[p], load[p], p))
            assignment[i] = part + 1
            in_competition[part] += 1
            load[part] += exec_times[i]
            count[part] += 1
    return assignment


def _project_file_with_absolute_paths(path: Path) -> str | None:
    """The source's ``nodefix.toml`` for a shard folder: relative paths resolved against the source's folder."""
    from workspace.config import Config

    if not path.is_file():
        return None
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"{path}: not a readable TOML file ({exc})") from None
    defaults = Config()
    lines = [f"# {PROJECT_FILE} of {path.parent}, copied by `nodefix split` (paths made absolute)"]
    for section, values in data.items():
        if not isinstance(values, dict):
            raise InputError(f"{path}: unknown section [{section}]")
        section_defaults = getattr(defaults, section, None)
        lines.append(f"\n[{section}]")
        tables = []
        for key, value in values.items():
            if isinstance(value, dict):
                tables.append((key, value))
                continue
            if isinstance(value, str) and _is_path_setting(section_defaults, key) and value:
                candidate = Path(value).expanduser()
                value = str(candidate if candidate.is_absolute() else (path.parent / candidate).resolve())
            lines.append(f"{key} = {json.dumps(value)}")
        for key, table in tables:
            lines.append(f"\n[{section}.{key}]")
            lines.extend(f"{json.dumps(str(k))} = {json.dumps(v)}" for k, v in table.items())
    return "\n".join(lines) + "\n"


def _is_path_setting(section: object, key: str) -> bool:
    if not dataclasses.is_dataclass(section):
        return False
    return any(f.name == key and "Path" in str(f.type) for f in dataclasses.fields(section))


# ---- merge


@dataclass(frozen=True)
class Conflict:
    row_id: str
    workspaces: list[Path]  # every workspace that annotated the row
    statuses: list[str]


@dataclass(frozen=True)
class MergeSummary:
    path: Path
    rows: int  # output rows (one per debug step)
    source_rows: int
    conflicts_resolved: int


class MergeRefused(InputError):
    """The shards do not add up to the source: conflicts or missing rows, listed row by row."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


def merge_deliverables(
    workspaces: list[Path], out: Path, source: Path | None = None, prefer: Path | None = None
) -> MergeSummary:
    """Write one deliverable of ``source`` (default: the source the shards were split from)."""
    if not workspaces:
        raise InputError("merge: give at least one workspace")
    tables: list[tuple[Path, pa.Table]] = []
    split_meta: dict | None = None
    for target in workspaces:
        with open_workspace(target) as ws:
            split_meta = split_meta or _split_meta(ws.dataset)
            tables.append((ws.path, deliverable_table(ws)))
    prefer_path = _preferred(prefer, [path for path, _ in tables])
    # the preferred workspace first: its rows are the ones kept wherever it has them, as validate reads the order
    tables.sort(key=lambda item: item[0] != prefer_path)
    original = load_dataset(source if source is not None else _source_from(split_meta, workspaces[0]))
    chosen, conflicts = _choose(tables, prefer_path)
    problems = [_conflict_line(c) for c in conflicts if prefer_path is None]
    missing = [row_id for row_id in original.ids if row_id not in chosen]
    if missing:
        parts = assign_parts(original, split_meta["parts"]) if split_meta else None
        for row_id in missing:
            where = f" (shard part-{parts[original.index_of(row_id)]})" if parts else ""
            problems.append(f"row {row_id!r}{where}: in none of the workspaces given; is a shard missing?")
    extra = sorted(set(chosen) - set(original.ids))
    problems += [f"row {row_id!r}: in a workspace but not in the source {original.path}" for row_id in extra]
    if problems:
        raise MergeRefused([f"merge refused: {len(problems)} problem(s)", *problems])
    merged = _in_source_order(original, tables, chosen)
    write_atomically(merged, out)
    resolved = len(conflicts) if prefer_path is not None else 0
    return MergeSummary(out, merged.num_rows, len(original), resolved)


def _split_meta(dataset: Dataset) -> dict | None:
    raw = (pq.read_schema(dataset.path).metadata or {}).get(SPLIT_KEY)
    if raw is None:
        return None
    try:
        meta = json.loads(raw)
    except json.JSONDecodeError:
        return None
    return meta if isinstance(meta, dict) and isinstance(meta.get("parts"), int) else None


def split_source(dataset: Dataset) -> Path | None:
    """The dataset a shard was split from, as its split metadata names it; None for a dataset that is no shard."""
    meta = _split_meta(dataset)
    source = meta.get("source") if meta is not None else None
    return Path(source) if isinstance(source, str) else None


def _source_from(meta: dict | None, first: Path) -> Path:
    if meta is None or not isinstance(meta.get("source"), str):
        raise InputError(f"{first}: its dataset is not a shard made by `nodefix split`; give --source DATASET")
    source = Path(meta["source"])
    if not source.is_file():
        raise InputError(f"{source}: the source the shards were split from is gone; give --source DATASET")
    return source


def _preferred(prefer: Path | None, paths: list[Path]) -> Path | None:
    if prefer is None:
        return None
    wanted = Path(prefer).expanduser().resolve()
    if wanted not in paths:
        raise InputError(f"--prefer {prefer}: not one of the workspaces being merged")
    return wanted


def _annotated(table: pa.Table) -> dict[str, str]:
    """Row id -> status for the rows someone worked on (any status but untouched)."""
    statuses: dict[str, str] = {}
    for row_id, status in zip(table.column("id").to_pylist(), table.column("status").to_pylist(), strict=True):
        if status != "untouched":
            statuses[row_id] = status
    return statuses


def _choose(tables: list[tuple[Path, pa.Table]], prefer: Path | None) -> tuple[dict[str, int], list[Conflict]]:
    """Row id -> index into ``tables`` of the workspace whose rows are kept; and the conflicts."""
    chosen: dict[str, int] = {}
    annotated_by: dict[str, list[int]] = defaultdict(list)
    for index, (_, table) in enumerate(tables):
        for row_id in table.column("id").to_pylist():
            chosen.setdefault(row_id, index)
        for row_id in _annotated(table):
            annotated_by[row_id].append(index)
    conflicts = []
    for row_id, indices in annotated_by.items():
        chosen[row_id] = indices[0]
        if len(indices) > 1:
            statuses = [_annotated(tables[i][1])[row_id] for i in indices]
            conflicts.append(Conflict(row_id, [tables[i][0] for i in indices], statuses))
            if prefer is not None:
                chosen[row_id] = next((i for i in indices if tables[i][0] == prefer), indices[0])
    return chosen, conflicts


def _conflict_line(conflict: Conflict) -> str:
    sides = "; ".join(f"{path} ({status})" for path, status in zip(conflict.workspaces, conflict.statuses, strict=True))
    return f"row {conflict.row_id!r}: annotated in {len(conflict.workspaces)} workspaces: {sides} (use --prefer)"


def _in_source_order(original: Dataset, tables: list[tuple[Path, pa.Table]], chosen: dict[str, int]) -> pa.Table:
    position = {row_id: i for i, row_id in enumerate(original.ids)}
    pieces = []
    for index, (_, table) in enumerate(tables):
        keep = pc.equal(pa.array([chosen[row_id] == index for row_id in table.column("id").to_pylist()]), True)
        pieces.append(table.filter(keep).replace_schema_metadata(None))
    merged = pa.concat_tables(pieces)
    keys = list(zip(merged.column("id").to_pylist(), merged.column("debug_step").to_pylist(), strict=True))
    order = sorted(range(merged.num_rows), key=lambda r: (position[keys[r][0]], keys[r][1]))
    merged = merged.take(pa.array(order, pa.int64()))
    # the traces stay in the shard workspaces: the merged file lists them all, in the order a row is looked up
    metadata = {k: v for k, v in (original.schema.metadata or {}).items() if k not in (WORKSPACE_KEY, SPLIT_KEY)}
    metadata[MERGED_KEY] = json.dumps([str(path) for path, _ in tables]).encode()
    return merged.replace_schema_metadata(metadata)
