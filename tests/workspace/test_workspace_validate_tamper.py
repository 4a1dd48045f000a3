"""validate against the workspace a deliverable came from: a real export after stored runs, tampered one way at
a time with pyarrow (its schema metadata kept, so the workspace is found), and bad input that must end in one line.
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from tracer_adapter.verbatim import check_analysis
from tui.cli import main
from workspace.errors import InputError
from workspace.export import WORKSPACE_KEY, export_deliverable
from workspace.locate import DB_NAME
from workspace.records import verification_from_json
from workspace.store import open_workspace
from workspace.validate import Violation, check_deliverable, validate_deliverable

FIX = "print('fixed')\n"
FIX2 = "print('fixed twice')\n"
NEW_BUG = "Traceback (most recent call last):\nValueError: a second bug\n"


@dataclass(frozen=True)
class Exported:
    source: Path
    workspace: Path
    out: Path

    def table(self) -> pa.Table:
        return pq.read_table(self.out)

    def export_again(self) -> None:
        with open_workspace(self.workspace) as ws:
            export_deliverable(ws, self.out)


@pytest.fixture
def exported(make_dataset, run_record, tmp_path: Path) -> Exported:
    """A real export of five rows, its workspace left where it was:

    row-0: replicated, fixed in two steps (the first fix ends in a new bug, graded; the second runs clean);
    row-1: rejected not_buggy after a replication that ran clean; row-2: rejected time_limit after one that
    reached the time limit; row-3: untouched; row-4: rejected as "other", with a note.
    """
    source = make_dataset([{"node_score": 10 * i} for i in range(5)])
    workspace, out = tmp_path / "ws", tmp_path / "deliverable.parquet"
    texts = {"revised_analysis": "reads ./input", "revised_plan": "read ./data", "cwm_analysis": "the read fails"}
    with open_workspace(source, workspace) as ws:
        code = ws.step("row-0").code  # every row has the same code
        ws.add_run("row-0", 0, "replicate", run_record("error", code=code))
        ws.update_step("row-0", 0, fixed_code=FIX, fixable=True, **texts)
        first_fix = ws.add_run("row-0", 0, "fix", run_record("error", output=NEW_BUG, code=FIX, match="different"))
        ws.add_grade(first_fix, {"success": False, "valid_solution": False})
        ws.new_step("row-0")
        ws.update_step("row-0", 1, fixed_code=FIX2, fixable=True, **texts)
        ws.add_run("row-0", 1, "fix", run_record("clean", code=FIX2))
        ws.add_run("row-1", 0, "replicate", run_record("clean", code=code))
        ws.set_status("row-1", "rejected", "not_buggy", note="runs clean here")
        ws.add_run("row-2", 0, "replicate", run_record("time_limit", code=code))
        ws.set_status("row-2", "rejected", "time_limit")
        ws.set_status("row-4", "rejected", "other", note="downloads weights")
        export_deliverable(ws, out)
    return Exported(source, workspace, out)


def _position(table: pa.Table, row_id: str, step: int = 0) -> int:
    rows = zip(table["id"].to_pylist(), table["debug_step"].to_pylist(), strict=True)
    return [i for i, key in enumerate(rows) if key == (row_id, step)][0]


def _with(table: pa.Table, column: str, row: int, value: object) -> pa.Table:
    values = table.column(column).to_pylist()
    values[row] = value
    i = table.schema.get_field_index(column)
    return table.set_column(i, table.schema.field(i), pa.array(values, table.schema.field(i).type))


def _with_verification(table: pa.Table, row: int, change) -> pa.Table:
    record = json.loads(table.column("verification")[row].as_py())
    change(record)
    return _with(table, "verification", row, json.dumps(record))


def _write(table: pa.Table, tmp_path: Path, name: str = "tampered.parquet") -> Path:
    assert WORKSPACE_KEY in (table.schema.metadata or {})  # the tampered file still names its workspace
    path = tmp_path / name
    pq.write_table(table, path)
    return path


def _where(violations: list[Violation]) -> list[tuple]:
    return [(v.row, v.id, v.step, v.column) for v in violations]


def test_a_real_export_has_no_violations_against_its_workspace(exported: Exported) -> None:
    found = check_deliverable(exported.out)
    assert found.violations == []
    assert found.workspace == exported.workspace.resolve()
    assert found.source == exported.source.resolve()  # the workspace's own dataset
    assert found.note() is None
    assert validate_deliverable(exported.out, exported.source) == []
    assert exported.table().column("debug_step").to_pylist() == [0, 1, 0, 0, 0, 0]


# ---- 1, 2: source values, against the given source or the workspace's own dataset


def test_source_values_must_be_the_source_rows(exported: Exported, tmp_path: Path) -> None:
    table = exported.table()
    step1, row3, row1 = _position(table, "row-0", 1), _position(table, "row-3"), _position(table, "row-1")
    assert table.column("code")[step1].as_py() == FIX  # a later step's code and output are its own, not the source's
    assert table.column("_term_out")[step1].as_py() == NEW_BUG.splitlines(keepends=True)
    table = _with(table, "plan", step1, "a better plan")  # a later step keeps the source's plan
    table = _with(table, "exec_time", row3, 0.5)
    table = _with(table, "node_score", row3, 31)  # an extra column, kept untouched
    table = _with(table, "code", row1, table.column("code")[row1].as_py() + "# edited\n")  # step 0's code
    term_out = table.column("_term_out")[row1].as_py()
    table = _with(table, "_term_out", row1, term_out[:-1])  # a line of the recorded output dropped
    broken = _write(table, tmp_path)
    expected = [
        (step1, "row-0", 1, "plan"),
        (row1, "row-1", 0, "code"),
        (row1, "row-1", 0, "_term_out"),
        (row3, "row-3", 0, "exec_time"),
        (row3, "row-3", 0, "node_score"),
    ]
    for source in (exported.source, None):  # given, or the workspace's own dataset
        violations = validate_deliverable(broken, source)
        assert _where(violations) == expected
        assert {v.message for v in violations} == {"differs from the source row"}
    assert str(violations[0]) == f"row {step1}, id 'row-0', step 1, column 'plan': differs from the source row"
    exported.workspace.rename(tmp_path / "ws-elsewhere")
    assert _where(validate_deliverable(broken, exported.source)) == expected  # the source alone says so too


def test_source_values_compare_nan_and_lists_as_given(make_dataset, tmp_path: Path) -> None:
    source = make_dataset([{"exec_time": float("nan")}, {"_term_out": ["one\n", "two"]}])
    with open_workspace(source, tmp_path / "ws") as ws:
        export_deliverable(ws, tmp_path / "d.parquet")
    assert validate_deliverable(tmp_path / "d.parquet") == []
    table = _with(pq.read_table(tmp_path / "d.parquet"), "_term_out", 1, ["one\n", "two", ""])
    [violation] = validate_deliverable(_write(table, tmp_path))
    assert _where([violation]) == [(1, "row-1", 0, "_term_out")]


def test_without_source_the_workspace_dataset_says_which_rows_belong(exported: Exported, tmp_path: Path) -> None:
    table = exported.table()
    table = table.filter(pc.not_equal(table["id"], "row-3"))
    [violation] = validate_deliverable(_write(table, tmp_path))
    assert (violation.id, violation.column) == ("row-3", "id")
    assert "missing from the deliverable" in violation.message
    stranger = _with(exported.table(), "id", _position(exported.table(), "row-3"), "stranger")
    violations = validate_deliverable(_write(stranger, tmp_path))
    assert ("stranger", "id", "id is not in the source dataset") in [(v.id, v.column, v.message) for v in violations]


def test_source_values_read_the_source_batch_by_batch(make_dataset, tmp_path: Path) -> None:
    """Rows spread over several of the source's batches, in another order than the source's."""
    source = make_dataset([{"plan": f"plan {i}", "exec_time": float(i)} for i in range(2500)])
    with open_workspace(source, tmp_path / "ws") as ws:
        export_deliverable(ws, tmp_path / "d.parquet")
    table = pq.read_table(tmp_path / "d.parquet")
    reordered = table.take(pa.array(list(range(2499, -1, -1))))
    reordered = _with(_with(reordered, "plan", 5, "plan 5"), "exec_time", 2400, 7.0)
    violations = validate_deliverable(_write(reordered, tmp_path), source)
    assert _where(violations) == [(5, "row-2494", 0, "plan"), (2400, "row-99", 0, "exec_time")]


# ---- 3: the verifying run, against the step's stored copy and the runs table


@pytest.mark.parametrize(
    ("step", "change", "fields"),
    [
        (1, lambda r: r.update(grade={"success": True, "valid_solution": True, "test_fitness": 0.99}), "grade"),
        (1, lambda r: r.update(output_as_recorded="all good\n"), "output_as_recorded"),
        (0, lambda r: r["verdict"].update(detail="a forged detail"), "verdict"),
        (1, lambda r: r.update(duration=361.0), "duration"),
        (1, lambda r: r.update(id=r["id"] + 100), "id"),
        (1, lambda r: r.update(signal=9, timed_out=True), "signal, timed_out"),
    ],
)
def test_a_changed_verification_is_caught(exported: Exported, tmp_path: Path, step: int, change, fields) -> None:
    table = exported.table()
    row = _position(table, "row-0", step)
    [violation] = validate_deliverable(_write(_with_verification(table, row, change), tmp_path))
    assert _where([violation]) == [(row, "row-0", step, "verification")]
    assert violation.message.startswith("differs from the verifying run ")
    assert violation.message.endswith(f"(in {fields})")


def test_a_verification_that_changes_its_verdict_is_caught(exported: Exported, tmp_path: Path) -> None:
    """The fix of step 0 said to end killed instead of in an error: still a new bug, so the file agrees with itself."""
    table = exported.table()
    row = _position(table, "row-0", 0)
    table = _with(
        _with_verification(table, row, lambda r: r["verdict"].update(kind="killed")),
        "verification_verdict",
        row,
        "killed",
    )
    [violation] = validate_deliverable(_write(table, tmp_path))
    assert _where([violation]) == [(row, "row-0", 0, "verification")]
    assert violation.message.endswith("(in verdict)")


def test_a_verification_added_or_removed_is_caught(exported: Exported, tmp_path: Path) -> None:
    table = exported.table()
    step1, row3 = _position(table, "row-0", 1), _position(table, "row-3")
    moved = _with(table, "verification", row3, table.column("verification")[step1].as_py())
    violations = validate_deliverable(_write(moved, tmp_path))
    assert f"the workspace {exported.workspace.resolve()} has no verifying run for this step" in [
        v.message for v in violations if (v.row, v.column) == (row3, "verification")
    ]
    removed = _with(_with(table, "verification", step1, None), "verification_verdict", step1, None)
    violations = validate_deliverable(_write(removed, tmp_path))
    assert any(
        (v.row, v.column) == (step1, "verification") and v.message.startswith("is empty, the workspace")
        for v in violations
    )


def _edit_stored_verification(workspace: Path, row_id: str, k: int, change) -> None:
    """Change the step's stored copy of its verifying run in the database, behind the store's back."""
    conn = sqlite3.connect(workspace / DB_NAME)
    try:
        stored = json.loads(
            conn.execute("SELECT verification FROM steps WHERE row_id = ? AND k = ?", (row_id, k)).fetchone()[0]
        )
        change(stored)
        with conn:
            conn.execute(
                "UPDATE steps SET verification = ? WHERE row_id = ? AND k = ?", (json.dumps(stored), row_id, k)
            )
    finally:
        conn.close()


def test_the_steps_copy_of_its_run_must_be_the_runs_table_record(exported: Exported) -> None:
    _edit_stored_verification(exported.workspace, "row-0", 1, lambda r: r.update(grade={"success": True}))
    exported.export_again()  # the file now agrees with the step, but the step no longer with its run
    [violation] = validate_deliverable(exported.out)
    assert _where([violation]) == [(1, "row-0", 1, "verification")]
    assert "its runs table's record of that run differs (in grade)" in violation.message


def test_a_verification_stored_before_records_carried_their_time_is_accepted(exported: Exported) -> None:
    """Older versions stored the verifying run as its record plus its id: no created_at, step or purpose."""

    def as_stored_by_older_versions(record: dict) -> None:
        for key in ("created_at", "step", "purpose"):
            del record[key]

    _edit_stored_verification(exported.workspace, "row-0", 1, as_stored_by_older_versions)
    exported.export_again()
    assert json.loads(exported.table().column("verification")[1].as_py())["created_at"] == 0.0
    assert validate_deliverable(exported.out) == []
    _edit_stored_verification(exported.workspace, "row-0", 1, lambda r: r.update(created_at=5.0))
    exported.export_again()
    [violation] = validate_deliverable(exported.out)
    assert violation.message.endswith("differs (in created_at)")


# ---- 4: reject reason and note


def test_reject_reason_and_note_must_be_the_workspaces(exported: Exported, tmp_path: Path) -> None:
    table = exported.table()
    row1, row4 = _position(table, "row-1"), _position(table, "row-4")
    table = _with(_with(table, "reject_reason", row4, "incomplete"), "reject_note", row1, "a note of my own")
    violations = validate_deliverable(_write(table, tmp_path))
    ws = exported.workspace.resolve()
    assert [(v.row, v.column, v.message) for v in violations] == [
        (row1, "reject_note", f"is 'a note of my own', the workspace {ws} says 'runs clean here'"),
        (row4, "reject_reason", f"is 'incomplete', the workspace {ws} says 'other'"),
    ]


# ---- 5: rejections that a run must prove


@pytest.mark.parametrize("reason", ["not_buggy", "time_limit"])
def test_a_row_rejected_as_not_buggy_has_no_confirmed_bug(exported: Exported, tmp_path: Path, reason: str) -> None:
    exported.workspace.rename(tmp_path / "ws-elsewhere")  # the file alone says so
    table = exported.table()
    row = _position(table, "row-0")
    table = _with(_with(table, "status", 1, "rejected"), "status", row, "rejected")
    table = _with(_with(table, "reject_reason", 1, reason), "reject_reason", row, reason)
    violations = validate_deliverable(_write(table, tmp_path))
    assert [(v.row, v.column, v.message) for v in violations] == [
        (row, "bug_confirmed", f"is true on a row rejected as {reason!r}")
    ]


def test_rejections_need_the_run_that_proves_them(exported: Exported, run_record) -> None:
    with open_workspace(exported.workspace) as ws:
        code = ws.step("row-3").code
        ws.add_run("row-3", 0, "replicate", run_record("time_limit", code=code + "# other code\n"))  # not its code
        ws.add_run("row-3", 0, "fix", run_record("clean", code=code))  # not a replication
        ws.set_status("row-3", "rejected", "not_buggy")
        ws.add_run("row-4", 0, "replicate", run_record("clean", code=code))
        ws.set_status("row-4", "rejected", "time_limit")  # ran clean: nothing reached the time limit
        export_deliverable(ws, exported.out)
    violations = validate_deliverable(exported.out)
    ws_path = exported.workspace.resolve()
    assert [(v.id, v.step, v.column, v.message) for v in violations] == [
        (
            "row-3",
            0,
            "reject_reason",
            f"rejected as 'not_buggy', but no run of step 0's code in the workspace {ws_path} shows it not buggy",
        ),
        (
            "row-4",
            0,
            "reject_reason",
            f"rejected as 'time_limit', but no run of step 0's code in the workspace {ws_path} reached the time limit",
        ),
    ]


def test_a_not_buggy_rejection_after_a_run_that_failed_is_caught(exported: Exported, run_record) -> None:
    with open_workspace(exported.workspace) as ws:
        ws.add_run("row-3", 0, "replicate", run_record("error", code=ws.step("row-3").code))
        ws.update_step("row-3", 0, bug_confirmed=False)  # by hand, against the run
        ws.set_status("row-3", "rejected", "not_buggy")
        export_deliverable(ws, exported.out)
    [violation] = validate_deliverable(exported.out)
    assert (violation.id, violation.column) == ("row-3", "reject_reason")


# ---- 6: the command says when no workspace was found


def test_validate_says_when_no_workspace_was_checked(exported: Exported, tmp_path: Path, capsys) -> None:
    assert main(["validate", str(exported.out)]) == 0
    captured = capsys.readouterr()
    assert (captured.out.strip(), captured.err) == (f"{exported.out}: ok", "")
    moved = tmp_path / "ws-elsewhere"
    exported.workspace.rename(moved)
    assert main(["validate", str(exported.out)]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip() == f"{exported.out}: ok"
    assert captured.err.strip().splitlines() == [
        f"note: the workspace the file names, {exported.workspace.resolve()}, is not there (give --workspace): "
        "quotes, runs, texts and source rows were not checked against it"
    ]
    assert main(["validate", str(exported.out), "--source", str(exported.source)]) == 0
    assert "note: the workspace the file names" in capsys.readouterr().err
    assert main(["validate", str(exported.out), "--workspace", str(moved)]) == 0
    assert capsys.readouterr().err == ""
    table = exported.table()
    unnamed = tmp_path / "unnamed.parquet"
    pq.write_table(
        table.replace_schema_metadata({k: v for k, v in table.schema.metadata.items() if k != WORKSPACE_KEY}), unnamed
    )
    assert main(["validate", str(unnamed), "--source", str(exported.source)]) == 0
    assert capsys.readouterr().err.strip().splitlines() == [
        "note: no workspace found (give --workspace): quotes, runs and texts were not checked against it"
    ]


# ---- 7: bad input: one line, never a traceback


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('{"id": 2, "verdict": "clean"}', "'verdict' is \"clean\", expected an object"),
        ('{"id": [2], "verdict": {"kind": "clean", "detail": ""}}', "'id' is [2], expected an integer"),
        ('{"id": true, "verdict": {"kind": "clean", "detail": ""}}', "'id' is true, expected an integer"),
        ('{"id": 2, "verdict": {"kind": 3, "detail": ""}}', "'verdict.kind' is 3, expected a string"),
        ('{"id": 2}', "'verdict' is missing"),
        ('{"verdict": {"kind": "clean", "detail": ""}}', "'id' is missing"),
        (
            '{"id": 2, "verdict": {"kind": "clean", "detail": ""}, "code_sha256": 5}',
            "'code_sha256' is 5, expected a string or null",
        ),
        (
            '{"id": 2, "verdict": {"kind": "clean", "detail": ""}, "duration": "1 s"}',
            "'duration' is \"1 s\", expected a number",
        ),
        (
            '{"id": 2, "verdict": {"kind": "clean", "detail": ""}, "grade": [1]}',
            "'grade' is [1], expected an object or null",
        ),
        (
            '{"id": 2, "verdict": {"kind": "clean", "detail": ""}, "command": ["python", 3]}',
            "'command' is [\"python\", 3], expected a list",
        ),
        (
            '{"id": 2, "verdict": {"kind": "error", "detail": "", "error": {"exc_type": "E", "message": "m", '
            '"frames": [["runfile.py", "twelve", "<module>"]]}}}',
            "'verdict.error.frames' is",
        ),
        pytest.param("[" * 100_000, "JSON nested too deeply", id="nested-too-deeply"),
    ],
)
def test_verification_records_of_the_wrong_shape_are_value_errors(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match="^" + re.escape(reason)):
        verification_from_json(text, 0)


@pytest.mark.parametrize(
    "text", ['{"id":2,"verdict":"clean"}', '{"id":[2],"verdict":{"kind":"clean","detail":""},"code_sha256":"x"}']
)
def test_a_verification_of_the_wrong_shape_is_one_violation(
    exported: Exported, tmp_path: Path, text: str, capsys
) -> None:
    table = exported.table()
    row = _position(table, "row-0", 1)
    record = verification_from_json(table.column("verification")[row].as_py(), 1)  # what export wrote reads
    assert (record.kind, record.step, record.purpose) == ("clean", 1, "fix")
    older = {"id": 3, "verdict": {"kind": "clean", "detail": "exited 0", "error": None, "match": None}}
    assert verification_from_json(json.dumps(older), 2).step == 2  # older records: no step, purpose or time
    broken = _write(_with(table, "verification", row, text), tmp_path)
    violations = validate_deliverable(broken)
    assert _where(violations[:1]) == [(row, "row-0", 1, "verification")]
    assert violations[0].message.startswith("is not a JSON run record (")
    assert all(v.row == row for v in violations)  # then the done rules, as for a step never verified
    assert main(["validate", str(broken)]) == 1
    assert "Traceback" not in capsys.readouterr().err


def test_workspace_metadata_that_is_not_text_is_an_input_error(exported: Exported, tmp_path: Path, capsys) -> None:
    table = exported.table()
    metadata = {**table.schema.metadata, WORKSPACE_KEY: b"/tmp/\xff\xfe-ws"}
    broken = tmp_path / "bad-metadata.parquet"
    pq.write_table(table.replace_schema_metadata(metadata), broken)
    with pytest.raises(InputError, match="schema metadata 'nodefix.workspace' is not UTF-8 text; give --workspace"):
        validate_deliverable(broken)
    assert main(["validate", str(broken)]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"nodefix: {broken}: schema metadata 'nodefix.workspace'")
    assert validate_deliverable(broken, workspace=exported.workspace) == []  # the named workspace is not needed


def test_a_repeated_column_is_a_violation(exported: Exported, tmp_path: Path, capsys) -> None:
    table = exported.table()
    table = table.append_column(pa.field("status", pa.string()), pa.array(["done"] * table.num_rows))
    broken = _write(table, tmp_path)
    violations = validate_deliverable(broken)
    assert [(v.column, v.message) for v in violations] == [("status", "column appears 2 times")]
    assert main(["validate", str(broken)]) == 1
    assert capsys.readouterr().out.splitlines()[0] == f"{broken}: column 'status': column appears 2 times"


def test_folders_are_not_deliverables_nor_files_workspaces(exported: Exported, tmp_path: Path, capsys) -> None:
    assert main(["validate", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip().endswith(f"{tmp_path}: is a folder, not a parquet file")
    with pytest.raises(InputError, match="is not a folder; --workspace is the workspace folder"):
        validate_deliverable(exported.out, workspace=exported.out)
    assert not (tmp_path / "deliverable.nodefix").exists()  # no workspace was made for the deliverable
    with pytest.raises(InputError, match="no such folder"):
        validate_deliverable(exported.out, workspace=tmp_path / "nowhere")


def test_a_done_fixable_step_must_quote_the_trace(exported: Exported, tmp_path: Path) -> None:
    table = exported.table()
    for k in (0, 1):
        table = _with(table, "status", _position(table, "row-0", k), "done")
    found = validate_deliverable(_write(table, tmp_path), check_quotes=check_analysis)
    unquoted = [(v.id, v.step) for v in found if v.column == "cwm_analysis" and "quotes no trace line" in v.message]
    assert unquoted == [("row-0", 0), ("row-0", 1)]
