"""Loading the client's parquet: both _term_out shapes, extra columns, and every bad input."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tui.cli import main
from workspace.dataset import MAX_CELL_BYTES, REQUIRED_COLUMNS, load_dataset
from workspace.errors import InputError


def _schema(**overrides: pa.DataType) -> pa.Schema:
    types = {
        "id": pa.string(),
        "plan": pa.string(),
        "competition_id": pa.string(),
        "analysis": pa.string(),
        "code": pa.string(),
        "_term_out": pa.list_(pa.string()),
        "exec_time": pa.float64(),
    }
    types.update(overrides)
    return pa.schema(list(types.items()))


def test_list_term_out_is_joined(make_dataset) -> None:
    out = ["Traceback (most recent call last):\n", "KeyError: 'x'\n", "Execution time: a moment seconds"]
    ds = load_dataset(
        make_dataset([{"_term_out": out, "code": "x = {}\nx['x']\n", "exec_time": 0.4}, {"exec_time": None}])
    )
    row = ds.row("row-0")
    assert row.term_out == "".join(out)
    assert (row.index, row.code, row.exec_time) == (0, "x = {}\nx['x']\n", 0.4)
    assert ds.row("row-1").exec_time is None
    assert ds.ids == ["row-0", "row-1"]
    assert len(ds) == 2


def test_string_term_out_with_ansi_codes_is_kept_as_given(make_dataset) -> None:
    out = "\x1b[0;31mKeyError\x1b[0m: 'x'\nExecution time: 3 seconds"
    ds = load_dataset(make_dataset([{"_term_out": out}]))
    assert ds.row("row-0").term_out == out


def test_extra_columns_are_kept_untouched(make_dataset) -> None:
    path = make_dataset(
        [{"score": 3, "tags": ["a", "b"]}, {"score": 7, "tags": []}],
        schema=_schema(score=pa.int32(), tags=pa.list_(pa.string())),
    )
    ds = load_dataset(path)
    assert ds.schema.field("score").type == pa.int32()
    assert [batch.column("tags").to_pylist() for _, batch in ds.batches(["tags"])] == [[["a", "b"], []]]


def test_empty_and_prose_code_load_fine(make_dataset) -> None:
    ds = load_dataset(
        make_dataset(
            [{"code": ""}, {"code": "First I will load the data, then train a model."}, {"code": None, "plan": None}]
        )
    )
    assert ds.row("row-0").code == ""
    assert ds.row("row-1").code.startswith("First")
    assert (ds.row("row-2").code, ds.row("row-2").plan) == ("", "")


def test_binary_text_columns_with_valid_utf8_are_decoded(make_dataset) -> None:
    path = make_dataset(
        [{"code": "print('é')\n".encode(), "_term_out": b"done"}],
        schema=_schema(code=pa.binary(), _term_out=pa.binary()),
    )
    row = load_dataset(path).row("row-0")
    assert (row.code, row.term_out) == ("print('é')\n", "done")


def test_unknown_id_is_an_input_error(make_dataset) -> None:
    with pytest.raises(InputError, match="no row with id 'nope'"):
        load_dataset(make_dataset()).row("nope")


def test_fingerprint_notices_a_rewritten_file(make_dataset) -> None:
    path = make_dataset([{}])
    before = load_dataset(path).fingerprint()
    assert load_dataset(path).fingerprint() == before
    make_dataset([{"code": "print(2)\n"}])
    assert load_dataset(path).fingerprint() != before


def _bad(tmp_path: Path, make_dataset, case: str) -> Path:
    if case == "missing file":
        return tmp_path / "absent.parquet"
    if case == "not parquet":
        path = tmp_path / "notes.parquet"
        path.write_text("id,code\n1,print()\n")
        return path
    if case == "folder":
        return tmp_path
    if case == "missing column":
        path = make_dataset([{}])
        table = pq.read_table(path).drop_columns(["analysis"])
        pq.write_table(table, path)
        return path
    if case == "code as int64":
        return make_dataset([{"code": 5}], schema=_schema(code=pa.int64()))
    if case == "exec_time as string":
        return make_dataset([{"exec_time": "3 s"}], schema=_schema(exec_time=pa.string()))
    if case == "term_out as list of ints":
        return make_dataset([{"_term_out": [1, 2]}], schema=_schema(_term_out=pa.list_(pa.int64())))
    if case == "duplicate ids":
        return make_dataset([{}, {"id": "twin"}, {}, {"id": "twin"}])
    if case == "null id":
        return make_dataset([{}, {"id": None}])
    if case == "non-utf8 binary":
        return make_dataset([{"code": b"ok"}, {"code": b"print('\xff\xfe')"}], schema=_schema(code=pa.binary()))
    if case == "non-utf8 in a list":
        return make_dataset(
            [{"_term_out": [b"fine"]}, {"_term_out": [b"a", b"\xc3("]}], schema=_schema(_term_out=pa.list_(pa.binary()))
        )
    if case == "50 MB cell":
        return make_dataset([{}, {"code": "x" * (50 * 2**20)}])
    if case == "list cell over the limit":
        piece = "y" * (2**20)
        return make_dataset([{}, {"_term_out": [piece] * 17}])
    raise AssertionError(case)


BAD_INPUTS = {
    # case: words the one-line message must contain
    "missing file": ["absent.parquet", "no such file"],
    "not parquet": ["notes.parquet", "not a readable parquet"],
    "folder": ["is a folder"],
    "missing column": ["dataset.parquet", "missing required column 'analysis'"],
    "code as int64": ["dataset.parquet", "column 'code'", "int64", "expected a string"],
    "exec_time as string": ["column 'exec_time'", "string", "expected a number"],
    "term_out as list of ints": ["column '_term_out'", "int64", "expected a string or a list of strings"],
    "duplicate ids": ["rows 1 and 3", "column 'id'", "duplicate id 'twin'"],
    "null id": ["row 1,", "column 'id'", "null"],
    "non-utf8 binary": ["row 1 (id 'row-1')", "column 'code'", "not valid UTF-8"],
    "non-utf8 in a list": ["row 1 (id 'row-1')", "column '_term_out'", "not valid UTF-8"],
    "50 MB cell": ["row 1 (id 'row-1')", "column 'code'", "50.0 MiB", "16 MiB limit"],
    "list cell over the limit": ["row 1 (id 'row-1')", "column '_term_out'", "17.0 MiB"],
}


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_bad_input_is_one_clear_line(tmp_path: Path, make_dataset, case: str) -> None:
    path = _bad(tmp_path, make_dataset, case)
    with pytest.raises(InputError) as caught:
        load_dataset(path)
    message = str(caught.value)
    assert "\n" not in message
    for words in BAD_INPUTS[case]:
        assert words in message


def test_non_utf8_bytes_in_a_string_column_are_caught(tmp_path: Path) -> None:
    """A writer that skipped validation can leave invalid UTF-8 in a string-typed column."""
    rows = {name: pa.array(["ok", "ok"]) for name in REQUIRED_COLUMNS if name not in ("_term_out", "exec_time")}
    rows["id"] = pa.array(["a", "b"])
    rows["_term_out"] = pa.array([b"fine", b"bad \xff"], pa.binary()).view(pa.string())
    rows["exec_time"] = pa.array([1.0, 2.0])
    path = tmp_path / "dirty.parquet"
    pq.write_table(pa.table(rows), path)
    with pytest.raises(InputError, match=r"dirty.parquet: row 1 \(id 'b'\), column '_term_out': text is not valid"):
        load_dataset(path)


def test_cell_exactly_at_the_limit_loads(make_dataset) -> None:
    ds = load_dataset(make_dataset([{"code": "z" * MAX_CELL_BYTES}]))
    assert len(ds.row("row-0").code) == MAX_CELL_BYTES


@pytest.mark.parametrize("case", ["missing file", "duplicate ids", "50 MB cell"])
def test_cli_exits_2_with_the_line_on_stderr(tmp_path: Path, make_dataset, capsys, case: str) -> None:
    path = _bad(tmp_path, make_dataset, case)
    assert main(["rows", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("nodefix: ")
    for words in BAD_INPUTS[case]:
        assert words in err[0]
    assert not (tmp_path / "dataset.nodefix").exists()  # nothing is made for a dataset that does not load
