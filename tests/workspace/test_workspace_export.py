"""The deliverable: one row per debug step, source types kept, added columns, atomic write."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tracer_adapter.verbatim import check_analysis
from workspace.errors import InputError
from workspace.export import ADDED_COLUMNS, export_deliverable
from workspace.store import open_workspace
from workspace.validate import validate_deliverable

FIX = "import pandas as pd\ntrain = pd.read_csv('./data/train.csv')\nprint(train.shape)\n"
FIX_2 = FIX + "print(train.columns)\n"


def _annotate(ws, run_record, quotable_trace) -> None:
    """row-0: two debug steps, both fixed and verified; row-1: rejected; row-2 left untouched."""
    ws.annotator = "alice"
    quote = quotable_trace(ws, "row-0", 0)
    ws.update_step(
        "row-0",
        0,
        bug_confirmed=True,
        fixable=True,
        revised_analysis="reads ./input",
        revised_plan="read ./data",
        cwm_analysis=f"the trace shows the read:\n{quote}",
        fixed_code=FIX,
    )
    run = ws.add_run(
        "row-0", 0, "fix", run_record("error", output="ValueError: second bug\n", code=FIX, match="different")
    )
    ws.add_grade(run, {"success": True, "valid_solution": True})
    ws.add_time("row-0", 0, 61.5)
    ws.new_step("row-0")
    quote = quotable_trace(ws, "row-0", 1)
    ws.update_step(
        "row-0",
        1,
        fixable=True,
        revised_analysis="second",
        revised_plan="fix the second",
        cwm_analysis=f"reasoning:\n{quote}",
        fixed_code=FIX_2,
    )
    ws.add_run("row-0", 1, "fix", run_record("clean", code=FIX_2))
    ws.set_status("row-0", "done", check_quotes=check_analysis)
    ws.update_step("row-1", 0, fixable=False, revised_analysis="downloads weights from the internet")
    ws.set_status("row-1", "rejected", "other", note="needs internet")


@pytest.mark.parametrize("term_out_type", [pa.list_(pa.string()), pa.string()])
def test_round_trip_through_validate(make_dataset, run_record, quotable_trace, tmp_path: Path, term_out_type) -> None:
    schema = pa.schema(
        [
            ("id", pa.string()),
            ("plan", pa.string()),
            ("competition_id", pa.string()),
            ("analysis", pa.string()),
            ("code", pa.string()),
            ("_term_out", term_out_type),
            ("exec_time", pa.float64()),
            ("node_score", pa.int32()),
        ]
    )
    out_value = ["Trace", "back\n"] if pa.types.is_list(term_out_type) else "Traceback\n"
    source = make_dataset([{"node_score": i, "_term_out": out_value} for i in range(3)], schema=schema)
    out = tmp_path / "deliverable.parquet"
    with open_workspace(source) as ws:
        _annotate(ws, run_record, quotable_trace)
        summary = export_deliverable(ws, out)
    assert (summary.rows, summary.source_rows) == (4, 3)
    assert validate_deliverable(out, source) == []
    table = pq.read_table(out)
    assert table.schema.field("_term_out").type == term_out_type
    assert table.schema.field("node_score").type == pa.int32()
    for name, kind in ADDED_COLUMNS.items():
        assert table.schema.field(name).type == kind
    rows = table.to_pylist()
    assert [(r["id"], r["debug_step"]) for r in rows] == [("row-0", 0), ("row-0", 1), ("row-1", 0), ("row-2", 0)]
    first, second, rejected, untouched = rows
    assert first["_term_out"] == out_value
    assert first["code"] == pq.read_table(source)["code"][0].as_py()
    assert second["code"] == FIX
    assert second["_term_out"] == (
        ["ValueError: second bug\n"] if pa.types.is_list(term_out_type) else "ValueError: second bug\n"
    )
    assert second["node_score"] == 0
    assert second["plan"] == first["plan"]
    assert (first["status"], first["bug_fixed"], first["fixed_code"], first["annotator"]) == (
        "done",
        True,
        FIX,
        "alice",
    )
    assert first["verification_verdict"] == "error"  # step 0's fix ended in step 1's bug
    assert second["verification_verdict"] == "clean"
    assert first["time_spent_seconds"] == 61.5
    verification = json.loads(first["verification"])
    assert verification["grade"] == {"success": True, "valid_solution": True}
    assert verification["code_sha256"] == hashlib.sha256(FIX.encode()).hexdigest()
    assert (rejected["status"], rejected["reject_reason"], rejected["reject_note"]) == (
        "rejected",
        "other",
        "needs internet",
    )
    assert rejected["fixable"] is False
    assert rejected["bug_fixed"] is False
    assert (untouched["status"], untouched["fixable"], untouched["verification"]) == ("untouched", None, None)
    assert untouched["bug_confirmed"] is False
    assert untouched["revised_analysis"] == ""


def test_binary_source_columns_stay_binary(make_dataset, run_record, tmp_path: Path) -> None:
    schema = pa.schema(
        [
            ("id", pa.string()),
            ("plan", pa.string()),
            ("competition_id", pa.string()),
            ("analysis", pa.string()),
            ("code", pa.binary()),
            ("_term_out", pa.list_(pa.binary())),
            ("exec_time", pa.float64()),
        ]
    )
    source = make_dataset([{"code": b"print(1)\n", "_term_out": [b"out"]}], schema=schema)
    out = tmp_path / "d.parquet"
    with open_workspace(source) as ws:
        ws.update_step("row-0", 0, fixed_code=FIX)
        ws.add_run("row-0", 0, "fix", run_record("error", output="boom", code=FIX, match="different"))
        ws.new_step("row-0")
        export_deliverable(ws, out)
    table = pq.read_table(out)
    assert table.schema.field("code").type == pa.binary()
    assert table["code"].to_pylist() == [b"print(1)\n", FIX.encode()]
    assert table["_term_out"].to_pylist() == [[b"out"], [b"boom"]]
    assert validate_deliverable(out, source) == []


def test_later_steps_output_is_a_list_of_lines_where_the_source_keeps_lists(
    make_dataset, run_record, tmp_path: Path
) -> None:
    recorded = ["loading\n", "Traceback (most recent call last):\n", "KeyError: 'x'\n", "Execution time: a second"]
    source = make_dataset([{"_term_out": recorded}])
    output = "step 1\rstep 2\nTraceback (most recent call last):\nValueError: y\nExecution time: a moment seconds"
    out = tmp_path / "d.parquet"
    with open_workspace(source) as ws:
        ws.update_step("row-0", 0, fixed_code=FIX)
        ws.add_run("row-0", 0, "fix", run_record("error", output=output, code=FIX, match="different"))
        ws.new_step("row-0")
        export_deliverable(ws, out)
    first, later = pq.read_table(out)["_term_out"].to_pylist()
    assert first == recorded
    assert later == [
        "step 1\rstep 2\n",
        "Traceback (most recent call last):\n",
        "ValueError: y\n",
        "Execution time: a moment seconds",
    ]
    assert "".join(later) == output
    assert validate_deliverable(out, source) == []


def test_a_source_column_named_like_an_added_one_is_refused(make_dataset, tmp_path: Path) -> None:
    with (
        open_workspace(make_dataset([{"status": "old"}])) as ws,
        pytest.raises(InputError, match="column 'status' is already in the source"),
    ):
        export_deliverable(ws, tmp_path / "d.parquet")
    assert not (tmp_path / "d.parquet").exists()


FAILING_EXPORT = """
import resource, signal, sys
from workspace.errors import InputError
from workspace.export import export_deliverable
from workspace.store import open_workspace
ws = open_workspace(sys.argv[1])
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead of killing
resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))
try:
    export_deliverable(ws, sys.argv[2])
except InputError as exc:
    print("refused:", exc, flush=True)
"""


def test_a_failed_write_leaves_no_partial_file(make_dataset, run_record, child, tmp_path: Path) -> None:
    source = make_dataset([{"plan": os.urandom(4000).hex()} for _ in range(20)])  # ~100 kB even compressed
    out = tmp_path / "deliverable.parquet"
    out.write_bytes(b"the previous deliverable")
    with open_workspace(source) as ws:
        folder = ws.path
    writer = child(FAILING_EXPORT, str(folder), str(out))
    line = writer.read_line(deadline=60)
    assert line.startswith(f"refused: {out}: cannot write the deliverable")
    assert out.read_bytes() == b"the previous deliverable"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dataset.nodefix", "dataset.parquet", "deliverable.parquet"]


def test_export_into_a_missing_folder_is_an_input_error(make_dataset, tmp_path: Path) -> None:
    with open_workspace(make_dataset()) as ws, pytest.raises(InputError, match="cannot write the deliverable"):
        export_deliverable(ws, tmp_path / "no" / "such" / "d.parquet")
