"""Runs keep the books: flag rules applied with the run, done means verified, edits reopen, claims guard every write."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tracer_adapter.verbatim import check_analysis
from tui.cli import main
from workspace import schema
from workspace.errors import InputError
from workspace.store import open_workspace

FIX = "print('fixed')\n"
OTHER = "print('other')\n"
HOLDER = """
import sys
from workspace.store import open_workspace
ws = open_workspace(sys.argv[1])
print("claimed" if ws.claim(sys.argv[2]) else "refused", flush=True)
sys.stdin.readline()
ws.close()
"""


def _finish_texts(ws, quote: str, k: int = 0) -> None:
    analysis = f"why:\n{quote}"
    ws.update_step("row-0", k, fixable=True, revised_analysis="cause", revised_plan="plan", cwm_analysis=analysis)


def test_a_replication_of_the_recorded_error_confirms_the_bug(open_ws, run_record) -> None:
    """Defect 3: the same error as recorded sets bug_confirmed, by that run."""
    ws = open_ws()
    code = ws.step("row-0").code
    run_id = ws.add_run("row-0", 0, "replicate", run_record("error", output="KeyError", code=code, match="same"))
    step = ws.step("row-0")
    assert step.bug_confirmed is True
    assert step.flag_sources == {"bug_confirmed": {"run": run_id}}
    assert step.observed_output == ws.source("row-0").term_out  # the recorded bug stays the bug


def test_a_replication_with_another_error_makes_it_the_bug_to_fix(open_ws, run_record) -> None:
    ws = open_ws()
    code = ws.step("row-0").code
    ws.add_run("row-0", 0, "original", run_record("error", output="ValueError: new\n", code=code, match="different"))
    assert ws.step("row-0").bug_confirmed is True
    assert ws.step("row-0").observed_output == "ValueError: new\n"
    ws.add_run("row-0", 0, "original", run_record("clean", code=code))
    assert ws.step("row-0").bug_confirmed is False  # ran clean: not buggy


def test_a_clean_run_of_the_fix_sets_bug_fixed_and_a_run_of_other_code_does_not(open_ws, run_record) -> None:
    """Defects 1 and 5: the verifying run sets bug_fixed; it must be a run of exactly the fixed code."""
    ws = open_ws()
    ws.update_step("row-0", 0, fixed_code=FIX)
    ws.add_run("row-0", 0, "fix", run_record("clean", code=OTHER))
    assert ws.step("row-0").bug_fixed is False
    assert ws.step("row-0").verification is None
    run_id = ws.add_run("row-0", 0, "fix", run_record("time_limit", code=FIX))
    step = ws.step("row-0")
    assert step.bug_fixed is True
    assert step.flag_sources["bug_fixed"] == {"run": run_id}
    assert step.verification.id == run_id


def test_a_run_that_proves_the_fix_makes_an_undecided_step_fixable_by_that_run(open_ws, run_record) -> None:
    ws = open_ws()
    ws.update_step("row-0", 0, fixed_code=FIX)
    ws.add_run("row-0", 0, "fix", run_record("error", code=FIX, match="same"))
    assert ws.step("row-0").fixable is None  # the bug is still there: nothing is proven
    ws.add_run("row-0", 0, "fix", run_record("error", code=FIX, match="different"))
    assert ws.step("row-0").fixable is None  # a new error proves the fix only once step 1 takes it up
    ws.new_step("row-0")
    step = ws.step("row-0", 0)
    assert step.fixable is True
    assert step.flag_sources["fixable"] == step.flag_sources["bug_fixed"]
    ws.update_step("row-0", 1, fixed_code=OTHER)
    run_id = ws.add_run("row-0", 1, "fix", run_record("clean", code=OTHER))
    step = ws.step("row-0", 1)
    assert step.fixable is True
    assert step.flag_sources["fixable"] == {"run": run_id}


def test_a_fixable_decided_by_hand_is_kept_by_the_fix_run(open_ws, run_record) -> None:
    ws = open_ws()
    ws.update_step("row-0", 0, fixed_code=FIX, fixable=False)
    ws.add_run("row-0", 0, "fix", run_record("clean", code=FIX))
    step = ws.step("row-0")
    assert step.fixable is False
    assert "run" not in step.flag_sources.get("fixable", {})


def test_done_refuses_a_fixable_row_without_a_verified_fix_or_without_text(open_ws, run_record, quotable_trace) -> None:
    """Defect 2."""
    ws = open_ws()
    ws.update_step("row-0", 0, fixable=True, bug_confirmed=True)
    with pytest.raises(InputError) as caught:
        ws.set_status("row-0", "done", check_quotes=check_analysis)
    message = str(caught.value)
    for reason in ("revised_analysis is empty", "revised_plan is empty", "cwm_analysis is empty", "no fixed code"):
        assert reason in message
    _finish_texts(ws, quotable_trace(ws))
    ws.update_step("row-0", 0, fixed_code=FIX)
    with pytest.raises(InputError, match="the fixed code was never run to verify it"):
        ws.set_status("row-0", "done", check_quotes=check_analysis)
    ws.add_run("row-0", 0, "fix", run_record("clean", code=FIX))
    ws.set_status("row-0", "done", check_quotes=check_analysis)
    assert ws.status("row-0")[0] == "done"


def test_annotate_done_without_fix_or_text_is_refused(make_dataset, capsys) -> None:
    """Defect 2, as the issue typed it: --fixable yes --confirmed yes --done."""
    source = make_dataset()
    argv = ["annotate", str(source), "--id", "row-0", "--fixable", "yes", "--confirmed", "yes", "--done"]
    assert main(argv) == 2
    message = capsys.readouterr().err.strip().splitlines()[-1]
    assert "cannot be done yet" in message
    assert "fixable, but there is no fixed code" in message


def test_any_edit_to_a_done_row_puts_it_back_in_progress(open_ws, run_record, quotable_trace) -> None:
    """Defect 7: text, flag, code, and a new run of the fix."""
    ws = open_ws()
    _finish_texts(ws, quotable_trace(ws))
    ws.update_step("row-0", 0, fixed_code=FIX)
    ws.add_run("row-0", 0, "fix", run_record("clean", code=FIX))
    edits = [
        lambda: ws.update_step("row-0", 0, revised_plan="another plan"),
        lambda: (ws.update_step("row-0", 0, bug_confirmed=False), ws.update_step("row-0", 0, bug_confirmed=True)),
        lambda: ws.add_run("row-0", 0, "fix", run_record("clean", code=FIX)),  # a new verifying run
        lambda: ws.update_step("row-0", 0, fixed_code=OTHER),
    ]
    for edit in edits:
        ws.set_status("row-0", "done", check_quotes=check_analysis)
        edit()
        assert ws.status("row-0")[0] == "in_progress"
    with pytest.raises(InputError, match="not the code its verifying run executed"):
        ws.set_status("row-0", "done", check_quotes=check_analysis)
    ws.add_run("row-0", 0, "fix", run_record("clean", code=OTHER))
    ws.update_step("row-0", 0, revised_plan="another plan")  # no change: no reopening
    ws.set_status("row-0", "done", check_quotes=check_analysis)
    ws.update_step("row-0", 0, revised_plan="another plan")
    assert ws.status("row-0")[0] == "done"


def test_a_flag_set_by_hand_says_so_and_undo_restores_its_source(open_ws, run_record) -> None:
    ws = open_ws()
    ws.annotator = "alice"
    code = ws.step("row-0").code
    run_id = ws.add_run("row-0", 0, "replicate", run_record("error", code=code, match="same"))
    ws.update_step("row-0", 0, bug_confirmed=False)
    assert ws.step("row-0").flag_sources == {"bug_confirmed": {"hand": "alice"}}
    ws.undo("row-0")
    assert ws.step("row-0").bug_confirmed is True
    assert ws.step("row-0").flag_sources == {"bug_confirmed": {"run": run_id}}


def test_new_step_needs_a_run_of_the_fix_that_ended_in_a_new_error(open_ws, run_record) -> None:
    """Issue 15 item 8."""
    ws = open_ws()
    ws.update_step("row-0", 0, fixed_code=FIX)
    with pytest.raises(InputError, match="its fix was never run"):
        ws.new_step("row-0")
    ws.add_run("row-0", 0, "fix", run_record("clean", code=FIX))
    with pytest.raises(InputError, match="its fix ran clean: there is no new error"):
        ws.new_step("row-0")
    ws.add_run("row-0", 0, "fix", run_record("error", code=FIX, match="same"))
    with pytest.raises(InputError, match="still fails with the step's own error"):
        ws.new_step("row-0")
    ws.add_run("row-0", 0, "fix", run_record("error", code=FIX, match="different"))
    ws.update_step("row-0", 0, fixed_code=OTHER)
    with pytest.raises(InputError, match="its fix changed after the latest run of it"):
        ws.new_step("row-0")
    ws.update_step("row-0", 0, fixed_code=FIX)
    assert ws.new_step("row-0").index == 1


def test_the_last_step_can_be_dropped_and_its_runs_stay_in_the_history(open_ws, run_record) -> None:
    """Issue 15 item 8: a step made by mistake goes; step k's bug_fixed is read again as the last step's."""
    ws = open_ws()
    with pytest.raises(InputError, match="has only step 0"):
        ws.drop_step("row-0")
    ws.update_step("row-0", 0, fixed_code=FIX)
    ws.add_run("row-0", 0, "fix", run_record("error", code=FIX, match="different"))
    ws.new_step("row-0")
    ws.update_step("row-0", 1, fixed_code=OTHER)
    mistaken = ws.add_run("row-0", 1, "fix", run_record("clean", code=OTHER))
    assert ws.step("row-0", 0).bug_fixed is True  # its error is gone: step 1 took up the new one
    assert ws.drop_step("row-0") == 1
    assert [s.index for s in ws.steps("row-0")] == [0]
    assert ws.step("row-0", 0).bug_fixed is False  # now the last step, and its fix still ends in an error
    history = {run.id: run for run in ws.runs("row-0")}
    assert history[mistaken].dropped is True
    ws.new_step("row-0")
    assert ws.runs("row-0", 1) == []  # the new step 1 does not inherit the dropped one's runs


def test_annotate_drop_step(make_dataset, run_record, capsys) -> None:
    source = make_dataset()
    with open_workspace(source) as ws:
        ws.update_step("row-0", 0, fixed_code=FIX)
        ws.add_run("row-0", 0, "fix", run_record("error", code=FIX, match="different"))
        ws.new_step("row-0")
    assert main(["annotate", str(source), "--id", "row-0", "--drop-step"]) == 0
    assert "dropped debug step 1" in capsys.readouterr().out
    assert main(["annotate", str(source), "--id", "row-0", "--drop-step"]) == 2
    assert "has only step 0, which cannot be dropped" in capsys.readouterr().err


def _refused(write) -> str:
    """'refused' when ``write()`` raises the claim's InputError; else what it did instead."""
    try:
        write()
    except InputError as error:
        return "refused" if "being edited by" in str(error) else f"InputError: {error}"
    return "written"


def test_every_write_to_a_row_claimed_elsewhere_is_refused(open_ws, child, run_record, tmp_path: Path) -> None:
    """Issue 11 item 7: runs, traces, grades and time too."""
    ws = open_ws()
    run_id = ws.add_run("row-1", 0, "fix", run_record("clean"))
    holder = child(HOLDER, str(ws.path), "row-1")
    assert holder.read_line() == "claimed"
    trace = tmp_path / "t.trace"
    writes = {
        "add_run": lambda: ws.add_run("row-1", 0, "fix", run_record("clean")),
        "add_time": lambda: ws.add_time("row-1", 0, 5.0),
        "add_grade": lambda: ws.add_grade(run_id, {"success": True}),
        "add_trace": lambda: ws.add_trace(
            "row-1", 0, code_sha256="0" * 64, trace_path=trace, meta_path=trace, index_path=trace, meta={}
        ),
        "new_step": lambda: ws.new_step("row-1"),
        "drop_step": lambda: ws.drop_step("row-1"),
    }
    # every write is tried, and a failure names each one that was not refused
    assert {name: _refused(write) for name, write in writes.items()} == dict.fromkeys(writes, "refused")
    assert [r.id for r in ws.runs("row-1")] == [run_id]
    assert ws.step("row-1").time_spent == 0
    holder.send("quit")
    assert holder.proc.wait(timeout=20) == 0


def test_queue_summaries_keep_the_replication_apart_from_the_fix_run(open_ws, run_record) -> None:
    """Defect 10: the latest run is a clean fix run; the replication's verdict and error type still show."""
    ws = open_ws()
    code = ws.step("row-0").code
    replicated = run_record("error", code=code, match="same")
    replicated["verdict"]["error"] = {"exc_type": "KeyError", "message": "'x'"}
    ws.add_run("row-0", 0, "replicate", replicated)
    ws.update_step("row-0", 0, fixed_code=FIX)
    ws.add_run("row-0", 0, "fix", run_record("clean", code=FIX))
    ws.add_run("row-1", 0, "original", run_record("no_submission", code=ws.step("row-1").code))
    first, second, third = ws.summaries()
    assert (first.verdict, first.error_type, first.match, first.fix_verdict) == ("error", "KeyError", "same", "clean")
    assert (second.verdict, second.error_type, second.fix_verdict) == ("no_submission", "no_submission", None)
    assert (third.verdict, third.fix_verdict) == (None, None)


def test_a_same_size_edit_in_the_middle_of_the_dataset_is_refused(make_dataset, tmp_path: Path) -> None:
    """Defect 9: the fingerprint hashes the whole file; reopening an unchanged file skips the hashing."""
    path = make_dataset([{"code": "x" * 300_000}, {}])
    with open_workspace(path) as ws:
        folder = ws.path
        ws.update_step("row-0", 0, revised_plan="made on the old code")
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle] = data[middle] ^ 0x01
    stat = path.stat()
    path.write_bytes(bytes(data))
    assert path.stat().st_size == stat.st_size
    for target in (path, folder):
        with pytest.raises(InputError) as caught:
            open_workspace(target)
        assert str(path) in str(caught.value)
        assert str(folder) in str(caught.value)
        assert "changed since" in str(caught.value)


def test_a_version_1_workspace_keeps_its_runs_and_grades_after_the_upgrade(make_dataset, tmp_path: Path) -> None:
    folder = tmp_path / "old-ws"
    folder.mkdir()
    conn = sqlite3.connect(folder / "nodefix.db")
    for statement in schema.MIGRATIONS[0]:
        conn.execute(statement)
    conn.execute("PRAGMA user_version = 1")
    conn.execute("INSERT INTO rows VALUES ('row-0', 'in_progress', NULL, NULL, 0)")
    conn.execute(
        "INSERT INTO steps(row_id, k, code, observed_output, created_at, updated_at) VALUES ('row-0', 0, 'c', 'o', 0, 0)"
    )
    conn.execute(
        "INSERT INTO runs(row_id, k, purpose, verdict, record, created_at) VALUES ('row-0', 0, 'fix', 'clean', '{}', 1)"
    )
    conn.execute("INSERT INTO grades(run_id, result, created_at) VALUES (1, '{\"success\": true}', 2)")
    conn.commit()
    conn.close()
    with open_workspace(make_dataset(), folder) as ws:
        [run] = ws.runs("row-0")
        assert (run.id, run.purpose, run.dropped, run.grade) == (1, "fix", False, {"success": True})
        assert ws.step("row-0").flag_sources == {}


def test_a_time_limit_shorter_than_six_minutes_proves_neither_not_buggy_nor_the_fix(
    open_ws, run_record, quotable_trace
) -> None:
    """The contract counts a run as not buggy after 6 minutes without raising; a 2-second limit proves nothing."""
    ws = open_ws()
    code = ws.step("row-0").code
    ws.add_run("row-0", 0, "replicate", run_record("time_limit", code=code, duration=2.0))
    assert "bug_confirmed" not in ws.step("row-0").flag_sources  # the replication says nothing
    ws.add_run("row-0", 0, "replicate", run_record("time_limit", code=code))
    assert ws.step("row-0").flag_sources["bug_confirmed"] == {"run": 2}  # six minutes: not buggy
    _finish_texts(ws, quotable_trace(ws))
    ws.update_step("row-0", 0, fixed_code=FIX)
    ws.add_run("row-0", 0, "fix", run_record("time_limit", code=FIX, duration=2.0))
    assert ws.step("row-0").bug_fixed is False
    with pytest.raises(InputError, match="stopped at a 2 s time limit; it must run 6 minutes without raising"):
        ws.set_status("row-0", "done", check_quotes=check_analysis)
    ws.add_run("row-0", 0, "fix", run_record("time_limit", code=FIX, duration=360.0))
    assert ws.step("row-0").bug_fixed is True
    ws.set_status("row-0", "done", check_quotes=check_analysis)


def test_done_needs_the_bug_replicated_and_a_quoted_trace_line(open_ws, run_record, quotable_trace) -> None:
    ws = open_ws()
    ws.update_step("row-0", 0, fixable=True, revised_analysis="cause", revised_plan="plan", cwm_analysis="prose only")
    ws.update_step("row-0", 0, fixed_code=FIX)
    ws.add_run("row-0", 0, "fix", run_record("clean", code=FIX))
    with pytest.raises(InputError) as caught:
        ws.set_status("row-0", "done", check_quotes=check_analysis)
    assert "the bug was never replicated" in str(caught.value)
    assert "cwm_analysis quotes no trace line" in str(caught.value)
    quote = quotable_trace(ws)  # replicated and traced
    # look-alike tokens are no quote: fullwidth bars, a zero-width space inside the token
    for fake in (quote.replace("<|", "<｜").replace("|>", "｜>"), quote.replace("_sep|>", "_\u200bsep|>")):
        ws.update_step("row-0", 0, cwm_analysis=f"why:\n{fake}")
        with pytest.raises(InputError, match="cwm_analysis quotes no trace line"):
            ws.set_status("row-0", "done", check_quotes=check_analysis)
    ws.update_step("row-0", 0, cwm_analysis=f"why:\n{quote}")
    ws.set_status("row-0", "done", check_quotes=check_analysis)


def test_a_step_code_and_output_are_not_edited(open_ws, make_dataset, capsys) -> None:
    ws = open_ws()
    for field in ("code", "observed_output"):
        with pytest.raises(InputError, match="write the change in fixed_code"):
            ws.update_step("row-0", 0, **{field: "print('replaced')\n"})
    source = make_dataset()
    assert main(["annotate", str(source), "--id", "row-0", "--set", "code=print(1)"]) == 2
    assert "write the change in fixed_code" in capsys.readouterr().err
