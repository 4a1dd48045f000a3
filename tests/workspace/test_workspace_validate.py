"""Every validation rule, on real deliverables broken one way at a time, and the validate command."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from tracer_adapter.verbatim import check_analysis
from tui.cli import main
from workspace.errors import InputError
from workspace.export import export_deliverable
from workspace.run_rules import code_sha256
from workspace.store import open_workspace
from workspace.validate import (
    CHECKS,
    Violation,
    check_against_workspace,
    check_rows,
    check_source_values,
    validate_deliverable,
)

FIX = "print('fixed')\n"
FIX2 = "print('fixed twice')\n"


@pytest.fixture
def good(make_dataset, run_record, tmp_path: Path) -> tuple[Path, Path]:
    """(source, deliverable): row-0 fixed and verified in two steps, row-1 not fixable, row-2 untouched.

    The workspace is moved away after the export, so these checks read the file alone.
    """
    source = make_dataset([{}, {}, {}])
    out = tmp_path / "good.parquet"
    with open_workspace(source, tmp_path / "ws") as ws:
        ws.update_step("row-0", 0, fixed_code=FIX, fixable=True)
        ws.add_run("row-0", 0, "fix", run_record("error", output="new bug", code=FIX, match="different"))
        ws.new_step("row-0")
        ws.update_step("row-0", 1, fixed_code=FIX2, fixable=True)
        ws.add_run("row-0", 1, "fix", run_record("clean", code=FIX2))
        ws.update_step("row-1", 0, fixable=False, revised_analysis="needs internet")
        export_deliverable(ws, out)
    (tmp_path / "ws").rename(tmp_path / "ws-elsewhere")
    return source, out


def _write(table: pa.Table, tmp_path: Path) -> Path:
    path = tmp_path / "broken.parquet"
    pq.write_table(table, path)
    return path


def _with(table: pa.Table, column: str, row: int, value: object) -> pa.Table:
    values = table.column(column).to_pylist()
    values[row] = value
    i = table.schema.get_field_index(column)
    return table.set_column(i, table.schema.field(i), pa.array(values, table.schema.field(i).type))


def test_a_good_deliverable_has_no_violations(good) -> None:
    source, out = good
    assert validate_deliverable(out) == []
    assert validate_deliverable(out, source) == []


def test_missing_source_ids(good, tmp_path: Path) -> None:
    source, out = good
    table = pq.read_table(out)
    broken = _write(table.filter(pc.not_equal(table["id"], "row-2")), tmp_path)
    assert validate_deliverable(broken) == []  # without the source nothing says row-2 should be there
    [violation] = validate_deliverable(broken, source)
    assert (violation.id, violation.column) == ("row-2", "id")
    assert "missing from the deliverable" in violation.message


def test_ids_not_in_the_source_and_null_ids(good, tmp_path: Path) -> None:
    source, out = good
    table = _with(_with(pq.read_table(out), "id", 3, "stranger"), "id", 2, None)
    violations = validate_deliverable(_write(table, tmp_path), source)
    messages = {(v.row, v.id, v.message) for v in violations}
    assert (3, "stranger", "id is not in the source dataset") in messages
    assert (2, None, "id is null") in messages
    assert any(v.id == "row-1" and "missing" in v.message for v in violations)
    assert any(v.id == "row-2" and "missing" in v.message for v in violations)


@pytest.mark.parametrize("steps", [[0, 2], [0, 0], [1, 2]])
def test_step_numbers_must_be_0_to_n(good, tmp_path: Path, steps: list[int]) -> None:
    _, out = good
    table = _with(_with(pq.read_table(out), "debug_step", 0, steps[0]), "debug_step", 1, steps[1])
    [violation] = validate_deliverable(_write(table, tmp_path))
    assert (violation.row, violation.id, violation.column) == (0, "row-0", "debug_step")
    assert f"debug steps are {steps}" in violation.message


def test_missing_and_mistyped_columns(good, tmp_path: Path) -> None:
    source, out = good
    table = pq.read_table(out).drop_columns(["revised_plan"])
    table = table.set_column(table.schema.get_field_index("bug_fixed"), "bug_fixed", pa.array(["yes"] * table.num_rows))
    table = table.set_column(table.schema.get_field_index("exec_time"), "exec_time", pa.array(["1 s"] * table.num_rows))
    violations = validate_deliverable(_write(table, tmp_path))
    assert [(v.column, v.message) for v in violations] == [
        ("exec_time", "has type string, expected a number"),
        ("bug_fixed", "has type string, expected bool"),
        ("revised_plan", "column is missing"),
    ]
    with_source = validate_deliverable(_write(table, tmp_path), source)
    assert ("exec_time", "has type string, expected double") in [(v.column, v.message) for v in with_source]


def test_source_extra_columns_must_keep_their_types(make_dataset, tmp_path: Path) -> None:
    source = make_dataset(
        [{"score": 1}],
        schema=pa.schema(
            [
                ("id", pa.string()),
                ("plan", pa.string()),
                ("competition_id", pa.string()),
                ("analysis", pa.string()),
                ("code", pa.string()),
                ("_term_out", pa.list_(pa.string())),
                ("exec_time", pa.float64()),
                ("score", pa.int16()),
            ]
        ),
    )
    with open_workspace(source) as ws:
        export_deliverable(ws, tmp_path / "d.parquet")
    table = pq.read_table(tmp_path / "d.parquet")
    table = table.set_column(table.schema.get_field_index("score"), "score", pa.array([1], pa.int64()))
    [violation] = validate_deliverable(_write(table, tmp_path), source)
    assert (violation.column, violation.message) == ("score", "has type int64, expected int16")


def test_bug_fixed_needs_fixed_code_and_a_clean_verification(good, tmp_path: Path) -> None:
    _, out = good
    table = _with(pq.read_table(out), "bug_fixed", 2, True)  # row-1: not fixable, no verification
    [violation] = validate_deliverable(_write(table, tmp_path))
    assert (violation.row, violation.id, violation.step, violation.column) == (2, "row-1", 0, "bug_fixed")
    table = _with(_with(pq.read_table(out), "fixable", 2, True), "bug_fixed", 2, True)
    violations = validate_deliverable(_write(table, tmp_path))
    assert [(v.row, v.column) for v in violations] == [(2, "fixed_code")]
    table = _with(pq.read_table(out), "verification_verdict", 1, "error")
    [violation] = validate_deliverable(_write(table, tmp_path))
    assert (violation.row, violation.column) == (1, "verification_verdict")
    assert "the verification's verdict is 'clean'" in violation.message


def test_fixable_set_by_the_fix_run_is_exported_and_checked(make_dataset, run_record, tmp_path: Path) -> None:
    source = make_dataset([{}])
    out = tmp_path / "by-run.parquet"
    with open_workspace(source, tmp_path / "ws") as ws:
        ws.update_step("row-0", 0, fixed_code=FIX)  # fixable never chosen by hand
        ws.add_run("row-0", 0, "fix", run_record("clean", code=FIX))
        export_deliverable(ws, out)
    table = pq.read_table(out)
    assert table.column("fixable").to_pylist() == [True]
    assert table.column("bug_fixed").to_pylist() == [True]
    assert validate_deliverable(out) == []
    violations = validate_deliverable(_write(_with(table, "fixable", 0, False), tmp_path))
    assert [(v.id, v.column) for v in violations] == [
        ("row-0", "revised_analysis"),  # a not-fixable step must say why
        ("row-0", "bug_fixed"),  # a fixed bug on a step that is not fixable
        ("row-0", "fixable"),  # and the file no longer says what the workspace does
    ]


def test_not_fixable_needs_a_reason(good, tmp_path: Path) -> None:
    _, out = good
    table = _with(pq.read_table(out), "revised_analysis", 2, "  ")
    [violation] = validate_deliverable(_write(table, tmp_path))
    assert (violation.id, violation.column) == ("row-1", "revised_analysis")
    assert "why it cannot be fixed" in violation.message


def test_fixed_code_must_parse(good, tmp_path: Path) -> None:
    _, out = good
    table = _with(pq.read_table(out), "fixed_code", 2, "def f(:\n    pass\n")
    violations = validate_deliverable(_write(table, tmp_path))
    assert [(v.row, v.column) for v in violations] == [(2, "fixed_code")]
    assert "does not parse (line 1:" in violations[0].message


def test_violations_print_as_one_line() -> None:
    violation = Violation(4, "abc", 1, "fixed_code", "fixed code does not parse (line 2: invalid syntax)")
    assert (
        str(violation)
        == "row 4, id 'abc', step 1, column 'fixed_code': fixed code does not parse (line 2: invalid syntax)"
    )
    assert str(Violation(None, None, None, "code", "column is missing")) == "column 'code': column is missing"
    assert len(CHECKS) == 12
    assert check_rows in CHECKS
    assert check_against_workspace in CHECKS
    assert check_source_values in CHECKS


def test_unreadable_deliverables_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        validate_deliverable(tmp_path / "none.parquet")
    (tmp_path / "text.parquet").write_text("hello")
    with pytest.raises(InputError, match="not a readable parquet"):
        validate_deliverable(tmp_path / "text.parquet")


def test_validate_command_exit_codes(good, tmp_path: Path, capsys) -> None:
    source, out = good
    assert main(["validate", str(out), "--source", str(source)]) == 0
    assert capsys.readouterr().out.strip() == f"{out}: ok"
    table = _with(_with(pq.read_table(out), "fixed_code", 2, "def f(:\n"), "revised_analysis", 2, "")
    broken = _write(table, tmp_path)
    assert main(["validate", str(broken), "--source", str(source)]) == 1
    captured = capsys.readouterr()
    lines = captured.out.strip().splitlines()
    assert len(lines) == 2
    assert all(line.startswith(f"{broken}: row ") for line in lines)
    assert "2 violation(s)" in captured.err
    assert main(["validate", str(tmp_path / "none.parquet")]) == 2
    assert "no such file" in capsys.readouterr().err


TRACE_EXAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "trace_examples" / "ex1.trace"


@pytest.fixture
def quoting(make_dataset, tmp_path: Path):
    """``quoting(analysis)`` exports a deliverable whose row-0 cwm_analysis is ``analysis``, with ex1's trace stored."""

    def export(analysis: str, traced: str | None = None) -> tuple[Path, Path]:
        """``traced``: the code the stored trace is of (default: the step's own code)."""
        workspace = tmp_path / "ws"
        with open_workspace(make_dataset([{}]), workspace) as ws:
            trace = ws.trace_dir("row-0", 0) / "t1.trace"
            trace.write_bytes(TRACE_EXAMPLE.read_bytes())
            ws.add_trace(
                "row-0",
                0,
                code_sha256=code_sha256(ws.step("row-0").code if traced is None else traced),
                trace_path=trace,
                meta_path=trace.with_suffix(".json"),
                index_path=Path(str(trace) + ".idx"),
                meta={},
            )
            ws.update_step("row-0", 0, cwm_analysis=analysis)
            export_deliverable(ws, tmp_path / "out.parquet")
        return tmp_path / "out.parquet", workspace

    return export


REAL_LINE = TRACE_EXAMPLE.read_text().split("\n")[3]


def test_quoted_lines_of_a_trace_of_other_code_are_not_the_step_trace(quoting) -> None:
    out, _ = quoting(f"the dict starts empty:\n{REAL_LINE}\n", traced="print('some other script')\n")
    [violation] = validate_deliverable(out, check_quotes=check_analysis)
    assert (violation.column, violation.step) == ("cwm_analysis", 0)
    assert "is not a line of the step's traces" in violation.message


def test_quoted_trace_lines_are_checked_against_the_exporting_workspace(quoting) -> None:
    out, _ = quoting(f"We start empty:\n```\n{REAL_LINE}\n```\n")
    assert validate_deliverable(out, check_quotes=check_analysis) == []
    edited = REAL_LINE.replace("new_d = {}", "new_d = []")
    out, _ = quoting(f"We start empty:\n```\n{edited}\n```\n")
    [violation] = validate_deliverable(out, check_quotes=check_analysis)
    assert (violation.id, violation.step, violation.column) == ("row-0", 0, "cwm_analysis")
    assert "line 3 is not a line of the step's traces" in violation.message
    assert repr(REAL_LINE) in violation.message  # the nearest real line


def test_quoted_trace_lines_need_a_workspace(quoting, tmp_path: Path) -> None:
    out, workspace = quoting(f"{REAL_LINE}\n")
    moved = tmp_path / "moved-ws"
    workspace.rename(moved)
    [violation] = validate_deliverable(out, check_quotes=check_analysis)
    assert "no workspace holds the traces" in violation.message
    assert validate_deliverable(out, workspace=moved, check_quotes=check_analysis) == []
    assert main(["validate", str(out), "--workspace", str(moved)]) == 0
