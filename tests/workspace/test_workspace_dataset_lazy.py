"""A dataset read lazily: text by batch across row groups, cells checked when read, ids found either way."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from workspace.dataset import BATCH_ROWS, load_dataset
from workspace.errors import InputError
from workspace.export import export_deliverable
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
