"""A dataset read lazily: text by batch across row groups, cells checked when read, ids found either way."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from workspace.dataset import BATCH_ROWS, load_dataset
from workspace.errors import InputError
from workspace.export import export_deliverable
from workspace.id_cache import FILE_NAME as ID_CACHE
from workspace.id_cache import IdCache
from workspace.store import open_workspace

ROWS = 2 * BATCH_ROWS + 500


def _many_groups(path: Path, rows: int = ROWS, rows_per_group: int = BATCH_ROWS + 300, bad_row: int | None = None):
    codes = [f"print({i})\n".encode() for i in range(rows)]
    if bad_row is not None:
        codes[bad_row] = b"print('\xff')\n"
    table = pa.table(
        {
            "id": [f"node-{i:05d}" for i in range(rows)],
            "plan": [f"plan {i}" for i in range(rows)],
            "competition_id": ["spaceship-titanic"] * rows,
            "analysis": [""] * rows,
            "code": pa.array(codes, pa.binary()),
            "_term_out": [[f"out {i}\n", "Execution time: 1 seconds"] for i in range(rows)],
            "exec_time": [float(i) for i in range(rows)],
        }
    )
    pq.write_table(table, path, row_group_size=rows_per_group)
    return path


def test_rows_are_read_right_across_batches_and_row_groups(tmp_path: Path) -> None:
    ds = load_dataset(_many_groups(tmp_path / "d.parquet"))
    assert pq.ParquetFile(ds.path).metadata.num_row_groups == 2  # rows 0-1323 and 1324-2547
    for i in (0, BATCH_ROWS - 1, BATCH_ROWS, BATCH_ROWS + 299, BATCH_ROWS + 300, ROWS - 1, 5):
        row = ds.row(f"node-{i:05d}")
        assert (row.index, row.code, row.plan, row.term_out, row.exec_time) == (
            i,
            f"print({i})\n",
            f"plan {i}",
            f"out {i}\nExecution time: 1 seconds",
            float(i),
        )
    assert len(ds) == ROWS
    assert ds.ids[ROWS - 1] == f"node-{ROWS - 1:05d}"
    assert list(ds.ids) == [f"node-{i:05d}" for i in range(ROWS)]


def test_ids_are_found_by_scan_and_then_by_the_full_index(tmp_path: Path) -> None:
    ds = load_dataset(_many_groups(tmp_path / "d.parquet"))
    for i in range(0, ROWS, 7):  # far more lookups than scans before the index is built
        assert ds.index_of(f"node-{i:05d}") == i
    assert "node-00003" in ds
    assert "node-99999" not in ds
    assert 3 not in ds
    with pytest.raises(InputError, match="no row with id 'node-99999'"):
        ds.index_of("node-99999")


def test_a_bad_cell_in_a_large_file_is_found_when_its_batch_is_read(tmp_path: Path) -> None:
    path = _many_groups(tmp_path / "d.parquet", bad_row=BATCH_ROWS + 400)
    with pytest.raises(InputError, match="row 1424 \\(id 'node-01424'\\), column 'code': text is not valid UTF-8"):
        load_dataset(path)  # a small file: checked whole on open
    ds = load_dataset(path, check_on_open_bytes=0)  # as a large one: opens, the bad row is reported when read
    assert ds.row("node-00010").code == "print(10)\n"
    with pytest.raises(InputError) as bad:
        ds.row("node-01424")
    assert str(bad.value) == f"{path}: row 1424 (id 'node-01424'), column 'code': text is not valid UTF-8"


def test_the_export_streams_every_row_and_reading_batches_checks_every_cell(tmp_path: Path) -> None:
    source = _many_groups(tmp_path / "d.parquet")
    out = tmp_path / "deliverable.parquet"
    with open_workspace(source) as ws:
        ws.update_step("node-00001", 0, revised_plan="read ./data")
        summary = export_deliverable(ws, out)
    assert (summary.rows, summary.source_rows) == (ROWS, ROWS)
    table = pq.read_table(out)
    assert table.column("id").to_pylist() == [f"node-{i:05d}" for i in range(ROWS)]
    assert table.column("code").to_pylist() == pq.read_table(source).column("code").to_pylist()
    assert table.column("revised_plan")[1].as_py() == "read ./data"

    bad = _many_groups(tmp_path / "bad.parquet", bad_row=ROWS - 2)
    ds = load_dataset(bad, check_on_open_bytes=0)
    with pytest.raises(InputError, match=f"row {ROWS - 2} .*column 'code': text is not valid UTF-8"):
        for _ in ds.batches():
            pass


def test_a_workspace_keeps_the_ids_and_reopens_from_them(tmp_path: Path) -> None:
    """Issue 16: once the workspace knows the file, its ids come from the memory-mapped copy beside the database."""
    source = _many_groups(tmp_path / "d.parquet")
    folder = tmp_path / "ws"
    open_workspace(source, folder).close()  # made: the file is checked whole, its ids kept
    copy = folder / ID_CACHE
    assert copy.is_file()
    for target in (source, folder):
        with open_workspace(target, folder if target == source else None) as ws:
            assert list(ws.dataset.ids) == [f"node-{i:05d}" for i in range(ROWS)]
            assert ws.dataset.index_of("node-01400") == 1400
            assert ws.dataset.row("node-01400").code == "print(1400)\n"
            with pytest.raises(InputError, match=r"'node-0140' is ambiguous, it starts node-01400, .* \(10 in all\)"):
                ws.dataset.resolve_id("node-0140")


@pytest.mark.parametrize("damage", ["another dataset", "truncated", "too few ids", "a symlink", "not arrow"])
def test_a_copy_of_the_ids_that_does_not_fit_is_ignored_and_made_again(tmp_path: Path, damage: str) -> None:
    source = _many_groups(tmp_path / "d.parquet")
    folder = tmp_path / "ws"
    open_workspace(source, folder).close()
    copy = folder / ID_CACHE
    if damage == "another dataset":
        other = _many_groups(tmp_path / "other.parquet", rows=ROWS + 1)
        IdCache(copy, "sha256:" + "0" * 64).write(pq.read_table(other, columns=["id"]).column("id").slice(0, ROWS))
    elif damage == "truncated":
        copy.write_bytes(copy.read_bytes()[: copy.stat().st_size // 2])
    elif damage == "too few ids":
        fingerprint = open_workspace(folder).dataset.fingerprint()
        IdCache(copy, fingerprint).write(pq.read_table(source, columns=["id"]).column("id").slice(0, 10))
    elif damage == "a symlink":
        elsewhere = tmp_path / "elsewhere.arrow"
        copy.rename(elsewhere)
        copy.symlink_to(elsewhere)
    else:
        copy.write_text("not an arrow file\n")
    with open_workspace(source, folder) as ws:
        assert len(ws.dataset) == ROWS
        assert ws.dataset.index_of(f"node-{ROWS - 1:05d}") == ROWS - 1
    assert not copy.is_symlink()  # replaced by a good copy, not written through
    assert IdCache(copy, open_workspace(folder).dataset.fingerprint()).read(ROWS) is not None


def test_a_workspace_folder_that_cannot_be_written_opens_without_the_copy(tmp_path: Path) -> None:
    source = _many_groups(tmp_path / "d.parquet")
    folder = tmp_path / "ws"
    open_workspace(source, folder).close()
    (folder / ID_CACHE).unlink()
    (folder / ID_CACHE).mkdir()  # in the way: the copy cannot be written, whoever runs the test
    with open_workspace(source, folder) as ws:
        assert ws.dataset.index_of("node-00007") == 7
    assert (folder / ID_CACHE).is_dir()
    assert not [p for p in folder.iterdir() if p.name.endswith(".partial")]
