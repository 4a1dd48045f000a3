"""The workspace database: steps, statuses, done blockers, undo, runs, traces, UI state, relinking."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from pathlib import Path

import pytest

from tracer_adapter.verbatim import check_analysis
from workspace.errors import InputError
from workspace.store import open_workspace

TRACE_EXAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "trace_examples"  # the client's goldens
TRACE_EXAMPLE = TRACE_EXAMPLES / "ex1.trace"
FIX = "import pandas as pd\ntrain = pd.read_csv('./data/train.csv')\nprint(train.shape)\n"


def test_step_0_comes_from_the_source_and_is_saved_on_first_edit(open_ws) -> None:
    ws = open_ws([{"code": "print(1)\n", "_term_out": ["a", "b"]}])
    step = ws.step("row-0")
    assert (step.code, step.observed_output, step.created_at, step.fixable) == ("print(1)\n", "ab", None, None)
    assert ws.summaries()[0].status == "untouched"
    ws.annotator = "ann"
    saved = ws.update_step("row-0", 0, revised_analysis="reads ./input", bug_confirmed=True)
    assert saved.revised_analysis == "reads ./input"
    assert saved.bug_confirmed
    assert saved.annotator == "ann"
    assert saved.created_at is not None
    assert saved.updated_at >= saved.created_at
    assert ws.summaries()[0].status == "in_progress"
    path = ws.path
    ws.close()
    with open_workspace(path) as again:
        assert again.step("row-0").revised_analysis == "reads ./input"
        assert [s.index for s in again.steps("row-0")] == [0]


def test_annotator_comes_from_open_workspace(make_dataset) -> None:
    with open_workspace(make_dataset(), annotator="alice") as ws:
        assert ws.update_step("row-0", 0, revised_plan="p").annotator == "alice"


def test_bad_fields_are_refused(open_ws) -> None:
    ws = open_ws()
    with pytest.raises(InputError, match="unknown step field 'colour'"):
        ws.update_step("row-0", 0, colour="red")
    with pytest.raises(InputError, match="'bug_fixed' must be true or false"):
        ws.update_step("row-0", 0, bug_fixed="yes")
    with pytest.raises(InputError, match="'fixed_code' must be text"):
        ws.update_step("row-0", 0, fixed_code=None)
    with pytest.raises(InputError, match="no row with id 'ghost'"):
        ws.update_step("ghost", 0, revised_plan="x")
    with pytest.raises(InputError, match="no debug step 2"):
        ws.update_step("row-0", 2, revised_plan="x")
    assert ws.step("row-0").created_at is None  # nothing was written


def test_statuses_and_reasons(open_ws) -> None:
    ws = open_ws()
    with pytest.raises(InputError, match="needs a reason"):
        ws.set_status("row-0", "rejected")
    with pytest.raises(InputError, match="unknown status 'finished'"):
        ws.set_status("row-0", "finished")
    with pytest.raises(InputError, match="only goes with status 'rejected'"):
        ws.set_status("row-0", "blocked", reason="other")
    ws.set_status("row-0", "rejected", "no_code", note="only prose")
    ws.set_status("row-1", "blocked", note="needs GPU")
    assert ws.status("row-0") == ("rejected", "no_code", "only prose")
    assert [(s.status, s.reject_reason) for s in ws.summaries()] == [
        ("rejected", "no_code"),
        ("blocked", None),
        ("untouched", None),
    ]


def _verified_fix(ws, tmp_path: Path, code: str = FIX, kind: str = "clean", run_record=None) -> int:
    return ws.add_run("row-0", 0, "fix", run_record(kind, run_dir=ws.run_dir("row-0", 0), code=code))


def _finished_texts(ws, quote: str, row_id: str = "row-0", k: int = 0) -> None:
    analysis = f"reasoning:\n{quote}"
    ws.update_step(row_id, k, revised_analysis="the cause", revised_plan="the plan", cwm_analysis=analysis)


def test_done_lists_every_blocker(open_ws, run_record, quotable_trace, tmp_path: Path) -> None:
    ws = open_ws()
    ws.update_step("row-0", 0, bug_fixed=True, fixable=True)
    with pytest.raises(InputError, match="no fixed code") as caught:
        ws.set_status("row-0", "done", check_quotes=check_analysis)
    assert "\n" not in str(caught.value)
    ws.update_step("row-0", 0, fixed_code="print(1\n", fixable=False)
    with pytest.raises(InputError) as caught:
        ws.set_status("row-0", "done", check_quotes=check_analysis)
    message = str(caught.value)
    assert "fixed code does not parse (line 1:" in message
    assert "revised_analysis is empty (write why it cannot be fixed)" in message
    assert "bug_fixed is set on a step that is not fixable" in message
    ws.update_step("row-0", 0, fixed_code=FIX, fixable=True, bug_fixed=False)
    _finished_texts(ws, quotable_trace(ws))
    with pytest.raises(InputError, match="never run to verify it"):
        ws.set_status("row-0", "done", check_quotes=check_analysis)
    _verified_fix(ws, tmp_path, kind="error", run_record=run_record)
    with pytest.raises(InputError, match="verifying run ended 'error', not clean or at the time limit"):
        ws.set_status("row-0", "done", check_quotes=check_analysis)
    _verified_fix(ws, tmp_path, code=FIX + "# other\n", run_record=run_record)  # a run of other code
    with pytest.raises(InputError, match="verifying run ended 'error'"):
        ws.set_status("row-0", "done", check_quotes=check_analysis)
    _verified_fix(ws, tmp_path, run_record=run_record)
    ws.set_status("row-0", "done", check_quotes=check_analysis)
    assert ws.status("row-0")[0] == "done"


def test_done_checks_cwm_analysis_against_the_traces_of_the_step_code(open_ws, quotable_trace) -> None:
    ws = open_ws()
    other = ws.trace_dir("row-0", 0) / "other.trace"  # a trace of other code, as `trace --code` stores one
    shutil.copy(TRACE_EXAMPLE, other)
    ws.add_trace(
        "row-0",
        0,
        code_sha256="0" * 64,
        trace_path=other,
        meta_path=other.with_suffix(".json"),
        index_path=Path(f"{other}.idx"),
        meta={},
    )
    real_line = TRACE_EXAMPLE.read_text().split("\n")[3]
    ws.update_step("row-0", 0, fixable=False, revised_analysis="needs internet")
    ws.update_step("row-0", 0, cwm_analysis=f"The dict starts empty:\n{real_line}\nso ...")
    with pytest.raises(InputError, match="cwm_analysis line 2 is not a line of the trace"):
        ws.set_status("row-0", "done", check_quotes=check_analysis)
    assert quotable_trace(ws) == real_line  # now also a trace of the step's own code
    edited = real_line.replace("new_d = {}", "new_d = []")
    ws.update_step("row-0", 0, cwm_analysis=f"The dict starts empty:\n{edited}\nso ...")
    with pytest.raises(InputError, match="cwm_analysis line 2 is not a line of the trace") as caught:
        ws.set_status("row-0", "done", check_quotes=check_analysis)
    assert "nearest" in str(caught.value)
    ws.update_step("row-0", 0, cwm_analysis=f"The dict starts empty:\n{real_line}\nso ...")
    ws.set_status("row-0", "done", check_quotes=check_analysis)
    assert ws.status("row-0")[0] == "done"


def test_undo_reverses_decisions_newest_first(open_ws) -> None:
    ws = open_ws()
    assert ws.undo() is None
    ws.update_step("row-0", 0, fixable=True, revised_plan="plan")
    ws.set_status("row-0", "rejected", "not_buggy")
    ws.update_step("row-1", 0, bug_confirmed=True)
    ws.update_step("row-0", 0, fixable=True)  # no change: not a decision
    assert "bug_confirmed = yes" in ws.undo()
    assert ws.step("row-1").bug_confirmed is False
    assert "rejected (not_buggy)" in ws.undo("row-0")
    assert ws.status("row-0") == ("in_progress", None, None)
    assert "fixable = yes" in ws.undo("row-0")
    assert ws.step("row-0").fixable is None
    assert ws.step("row-0").revised_plan == "plan"  # text is not a decision
    assert ws.undo("row-0") is None


def test_new_step_starts_from_the_fix_and_its_output(open_ws, run_record, tmp_path: Path) -> None:
    ws = open_ws()
    with pytest.raises(InputError, match="from step 0: it has no fixed code"):
        ws.new_step("row-0")
    ws.update_step("row-0", 0, fixed_code=FIX)
    ws.add_run("row-0", 0, "fix", run_record("error", output="old output", code=FIX, match="different"))
    new_bug = run_record("error", output="ValueError: new bug\n", code=FIX, match="different")
    run_id = ws.add_run("row-0", 0, "fix", {**new_bug, "output_as_recorded": "ValueError: as recorded\n"})
    step = ws.new_step("row-0")
    assert (step.index, step.code, step.observed_output) == (1, FIX, "ValueError: as recorded\n")
    assert step.bug_confirmed
    assert step.flag_sources == {"bug_confirmed": {"run": run_id}}
    assert ws.step("row-0", 0).bug_fixed
    assert ws.step("row-0", 0).flag_sources["bug_fixed"] == {"run": run_id}
    assert [s.index for s in ws.steps("row-0")] == [0, 1]
    assert ws.summaries()[0].n_steps == 2
    ws.update_step("row-0", 1, revised_analysis="second bug")
    assert ws.step("row-0", 1).revised_analysis == "second bug"


def test_runs_grades_and_verification(open_ws, run_record) -> None:
    ws = open_ws()
    first = ws.add_run("row-0", 0, "replicate", run_record("error", output="KeyError"))
    ws.update_step("row-0", 0, fixed_code=FIX)
    fix = ws.add_run("row-0", 0, "fix", run_record("clean", code=FIX))
    ws.add_grade(fix, {"success": True, "valid_solution": True})
    runs = ws.runs("row-0")
    assert [(r.id, r.purpose, r.step) for r in runs] == [(first, "replicate", 0), (fix, "fix", 0)]
    assert runs[1].grade == {"success": True, "valid_solution": True}
    assert runs[0].grade is None
    assert runs[0].output_tail == "KeyError"
    assert runs[0].created_at > 0
    assert ws.latest_replication("row-0").id == first
    assert ws.latest_replication("row-1") is None
    verification = ws.step("row-0").verification
    assert verification.id == fix
    assert verification.grade["success"] is True
    summary = ws.summaries()[0]
    assert (summary.verdict, summary.match, summary.fix_verdict) == ("error", "same", "clean")
    with pytest.raises(InputError, match="no run with id 999"):
        ws.add_grade(999, {})


def test_run_dirs_are_fresh_and_traces_are_listed(open_ws) -> None:
    ws = open_ws([{"id": "../odd id/x"}])
    a, b = ws.run_dir("../odd id/x", 0), ws.run_dir("../odd id/x", 0)
    assert a != b
    assert a.is_dir()
    assert b.is_dir()
    assert ws.path / "runs" in a.parents
    folder = ws.trace_dir("../odd id/x", 0)
    assert ws.path / "traces" in folder.parents
    trace_id = ws.add_trace(
        "../odd id/x",
        0,
        code_sha256="ab" * 32,
        trace_path=folder / "t.trace",
        meta_path=folder / "t.json",
        index_path=folder / "t.trace.idx",
        meta={"frames": 3},
    )
    [trace] = ws.traces("../odd id/x", 0)
    assert trace.id == trace_id
    assert trace.meta.frames == 3
    assert trace.trace_path == folder / "t.trace"
    assert trace.code_sha256 == "ab" * 32


def test_time_and_ui_state_persist(open_ws) -> None:
    ws = open_ws()
    ws.add_time("row-2", 0, 30)
    ws.add_time("row-2", 0, 12.5)
    ws.set_ui_state("last", {"row": "row-2", "pane": "trace", "cursor": [3, 4]})
    path = ws.path
    ws.close()
    with open_workspace(path) as again:
        assert again.summaries()[2].time_spent == 42.5
        assert again.ui_state("last") == {"row": "row-2", "pane": "trace", "cursor": [3, 4]}
        assert again.ui_state("never") is None


def test_workspace_lives_beside_the_dataset_and_can_be_elsewhere(make_dataset, tmp_path: Path) -> None:
    path = make_dataset()
    with open_workspace(path) as ws:
        assert ws.path == tmp_path / "dataset.nodefix"
        assert (ws.path / "nodefix.db").is_file()
    with open_workspace(path, tmp_path / "mine") as ws:
        assert ws.path == tmp_path / "mine"
        ws.update_step("row-0", 0, revised_plan="here")
    with open_workspace(tmp_path / "mine") as ws:
        assert ws.dataset.path == path
        assert ws.step("row-0").revised_plan == "here"
    with pytest.raises(InputError, match="not a nodefix workspace"):
        open_workspace(tmp_path)


def test_moved_dataset_is_relinked_and_a_changed_one_refused(make_dataset, tmp_path: Path) -> None:
    path = make_dataset()
    with open_workspace(path) as ws:
        folder = ws.path
        ws.update_step("row-0", 0, revised_plan="kept")
    moved = tmp_path / "elsewhere.parquet"
    path.rename(moved)
    with pytest.raises(InputError) as caught:
        open_workspace(folder)
    assert str(path) in str(caught.value)
    assert "--workspace" in str(caught.value)
    with open_workspace(moved, folder) as ws:
        assert ws.step("row-0").revised_plan == "kept"
    with open_workspace(folder) as ws:
        assert ws.dataset.path == moved
    other = make_dataset([{"code": "print('other')\n"}], name="other.parquet")
    with pytest.raises(InputError) as caught:
        open_workspace(other, folder)
    assert str(other) in str(caught.value)
    assert str(moved) in str(caught.value)
    make_dataset([{"code": "changed"}], name="elsewhere.parquet")
    with pytest.raises(InputError, match="changed since workspace"):
        open_workspace(folder)


def test_the_source_file_is_never_written(make_dataset, run_record, tmp_path: Path) -> None:
    path = make_dataset([{}, {}])
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    with open_workspace(path) as ws:
        ws.update_step("row-0", 0, fixed_code=FIX, bug_fixed=True, revised_analysis="a")
        ws.add_run("row-0", 0, "fix", run_record("error", code=FIX, match="different"))
        ws.set_status("row-1", "rejected", "incomplete")
        ws.new_step("row-0")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_database_is_wal_with_foreign_keys(open_ws) -> None:
    ws = open_ws()
    conn = sqlite3.connect(ws.path / "nodefix.db")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.execute("PRAGMA foreign_keys = ON")
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("INSERT INTO runs(row_id, k, purpose, record, created_at) VALUES ('row-0', 5, 'fix', '{}', 0)")
    conn.close()
