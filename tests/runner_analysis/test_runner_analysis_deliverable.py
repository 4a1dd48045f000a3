"""Headless round trips on the demo with real sandboxed runs: replicate, fix with run --code, annotate, done,
export, validate; then the export tampered three ways, each caught. Also the host-side grading copy."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from demo import DemoPaths
from demo.catalogue import row_by_name
from runner import bookkeeping
from tui.cli import main
from workspace.config import GradeSettings, load_config
from workspace.store import open_workspace


@pytest.fixture
def dataset(demo: DemoPaths, tmp_path: Path) -> Path:
    folder = tmp_path / "demo"
    shutil.copytree(demo.dataset.parent, folder)
    return folder / "demo.parquet"


def _ok(argv: list[str], capsys) -> str:
    code = main(argv)
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.out


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _tampered(out: Path, tmp_path: Path, column: str, row: int, change) -> Path:
    table = pq.read_table(out)
    values = table.column(column).to_pylist()
    values[row] = change(values[row])
    i = table.schema.get_field_index(column)
    broken = tmp_path / f"tampered-{column}.parquet"
    pq.write_table(table.set_column(i, table.schema.field(i), pa.array(values, table.schema.field(i).type)), broken)
    return broken


def _traced_line(dataset: Path, row_id: str, k: int, capsys) -> str:
    """Trace step k's code and give back one of the trace's line events, to quote in cwm_analysis."""
    _ok(["trace", str(dataset), "--id", row_id, "--step", str(k)], capsys)
    with open_workspace(dataset) as ws:
        trace = ws.quotable_trace_paths(row_id, k)[-1]
    return next(line for line in trace.read_text(encoding="utf-8").split("\n") if "<|line_sep|>" in line)


def _violations(path: Path, source: Path, capsys) -> list[str]:
    code = main(["validate", str(path), "--source", str(source)])
    lines = capsys.readouterr().out.strip().splitlines()
    assert code == (1 if lines and not lines[-1].endswith(": ok") else 0)
    return [line for line in lines if not line.endswith(": ok")]


def test_one_step_round_trip_and_three_tamperings(dataset: Path, tmp_path: Path, capsys) -> None:
    row = row_by_name("spaceship-input-path")
    target = [str(dataset), "--id", row.id]
    _ok(["run", *target], capsys)  # the replication
    with open_workspace(dataset) as ws:
        assert ws.step(row.id).bug_confirmed is True  # defect 3: same error as recorded
    fix = _write(tmp_path, "fix.py", row.fixed_code(1))
    out = _ok(["run", *target, "--code", str(fix)], capsys)
    assert "[fix ran clean]" in out  # defect 10: not "different error"
    assert "bug_fixed yes" in out
    with open_workspace(dataset) as ws:
        step = ws.step(row.id)
        assert step.fixed_code == row.fixed_code(1)  # defect 4: run --code stores the fix
        assert step.bug_fixed is True  # defect 1
        assert step.flag_sources["bug_fixed"] == {"run": step.verification.id}
    _ok(["trace", *target], capsys)
    with open_workspace(dataset) as ws:
        [trace] = ws.trace_paths(row.id, 0)
    quoted = next(line for line in trace.read_text(encoding="utf-8").split("\n") if "<|line_sep|>" in line)
    analysis = _write(tmp_path, "cwm.txt", f"The read fails here:\n{quoted}\nbecause ./input does not exist.\n")
    _ok(
        [
            "annotate",
            *target,
            "--fixable",
            "yes",
            "--set",
            "revised_analysis=reads ./input, the data is in ./data",
            "--set",
            "revised_plan=read ./data instead",
            "--set-file",
            f"cwm_analysis={analysis}",
            "--done",
        ],
        capsys,
    )
    deliverable = tmp_path / "deliverable.parquet"
    _ok(["export", str(dataset), "--out", str(deliverable)], capsys)
    assert _violations(deliverable, dataset, capsys) == []
    position = pq.read_table(deliverable)["id"].to_pylist().index(row.id)

    one_char = _tampered(
        deliverable, tmp_path, "fixed_code", position, lambda code: code.replace("./data/", "./dat4/", 1)
    )
    found = _violations(one_char, dataset, capsys)
    assert any(f"id '{row.id}', step 0, column 'fixed_code'" in v and "verifying run executed" in v for v in found)

    quote = _tampered(
        deliverable, tmp_path, "cwm_analysis", position, lambda text: text.replace(quoted, quoted[:-1] + "#")
    )
    found = _violations(quote, dataset, capsys)
    assert any(f"id '{row.id}', step 0, column 'cwm_analysis'" in v and "not a line of" in v for v in found)

    flag = _tampered(deliverable, tmp_path, "bug_fixed", position, lambda value: not value)
    found = _violations(flag, dataset, capsys)
    assert any(f"id '{row.id}', step 0, column 'bug_fixed'" in v for v in found)

    # defect 5: running other code on the done row puts it back in progress
    _ok(["run", *target, "--code", str(_write(tmp_path, "other.py", row.code))], capsys)
    with open_workspace(dataset) as ws:
        assert ws.status(row.id)[0] == "in_progress"
        assert ws.step(row.id).bug_fixed is False


def test_two_step_round_trip_checks_the_chain(dataset: Path, tmp_path: Path, capsys) -> None:
    row = row_by_name("leaf-two-bugs")
    target = [str(dataset), "--id", row.id]
    texts = ["--fixable", "yes", "--set", "revised_analysis=cause", "--set", "revised_plan=plan"]
    _ok(["run", *target], capsys)
    first_fix = _write(tmp_path, "fix1.py", row.fixed_code(1))
    assert "[fix ends in a new error" in _ok(["run", *target, "--code", str(first_fix)], capsys)
    quoted = _traced_line(dataset, row.id, 0, capsys)
    _ok(["annotate", *target, "--step", "0", *texts, "--set", f"cwm_analysis=the id column is 'id':\n{quoted}"], capsys)
    assert "started debug step 1" in _ok(["annotate", *target, "--new-step"], capsys)
    second_fix = _write(tmp_path, "fix2.py", row.fixed_code(2))
    assert "[fix ran clean]" in _ok(["run", *target, "--step", "1", "--code", str(second_fix)], capsys)
    quoted = _traced_line(dataset, row.id, 1, capsys)
    _ok(["annotate", *target, *texts, "--set", f"cwm_analysis=the columns include id:\n{quoted}", "--done"], capsys)
    with open_workspace(dataset) as ws:
        first, second = ws.steps(row.id)
        assert (first.bug_fixed, second.bug_fixed, second.bug_confirmed) == (True, True, True)
        assert second.code == first.fixed_code
        assert second.observed_output == first.verification.output  # in the recorded form
    deliverable = tmp_path / "deliverable.parquet"
    _ok(["export", str(dataset), "--out", str(deliverable)], capsys)
    assert _violations(deliverable, dataset, capsys) == []
    table = pq.read_table(deliverable)
    position = [
        i
        for i, (rid, k) in enumerate(zip(table["id"].to_pylist(), table["debug_step"].to_pylist(), strict=True))
        if rid == row.id and k == 1
    ][0]
    broken = _tampered(deliverable, tmp_path, "code", position, lambda code: code + "\n")
    found = _violations(broken, dataset, capsys)
    assert any(f"id '{row.id}', step 1, column 'code'" in v and "step 0's fixed_code" in v for v in found)


GRADER = """
import json, sys
code, out = sys.argv[1], sys.argv[3]
json.dump({"success": True, "graded_code": open(code).read()}, open(out, "w"))
"""


def test_grading_grades_the_host_copy_not_what_the_script_left_in_scratch(dataset: Path, tmp_path: Path) -> None:
    """Defect 6: the fix rewrites its own runfile.py; the grader still gets the code that was run."""
    row = row_by_name("spaceship-input-path")
    fix = row.fixed_code(1) + "\nopen('runfile.py', 'w').write('print(\"not the fix\")\\n')\n"
    grader = _write(tmp_path, "grader.py", GRADER)
    settings = GradeSettings(
        command=f"{sys.executable} {grader} {{code}} {{competition_id}} {{out}}/results.jsonl", checkout=tmp_path
    )
    with open_workspace(dataset) as ws:
        record, _ = bookkeeping.run_and_record(ws, row.id, 0, "fix", load_config(dataset).run, fix)
        assert "not the fix" in (Path(record.run_dir) / "scratch" / "runfile.py").read_text()
        graded_run, result = bookkeeping.grade_code(ws, row.id, 0, ws.step(row.id).fixed_code, settings)
        assert graded_run == record.id
        assert result["graded_code"] == fix
        assert json.loads(json.dumps(ws.step(row.id).verification.to_json()))["grade"]["graded_code"] == fix
