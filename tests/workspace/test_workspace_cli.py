"""The headless commands: rows, show, annotate, export, validate, run in-process through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tui.cli import build_parser, main
from workspace.store import open_workspace

FIX = "print('fixed')\n"


@pytest.fixture
def source(make_dataset) -> Path:
    return make_dataset([{}, {"competition_id": "nlp-getting-started"}, {}])


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_help_lists_the_commands() -> None:
    text = build_parser().format_help()
    for name in ("rows", "show", "annotate", "export", "validate"):
        assert name in text


def test_rows_table_filters_and_json(source: Path, capsys) -> None:
    code, out, err = _run(capsys, "rows", str(source))
    assert code == 0
    assert err.strip() == f"nodefix: workspace {source.parent / 'dataset.nodefix'}"
    lines = out.splitlines()
    assert lines[0].split() == ["id", "competition", "status", "verdict", "steps", "time"]
    assert lines[1].split() == ["row-0", "spaceship-titanic", "untouched", "-", "1", "0s"]
    _run(capsys, "annotate", str(source), "--id", "row-1", "--reject", "not_buggy")
    code, out, _ = _run(capsys, "rows", str(source), "--status", "rejected")
    assert [line.split()[0] for line in out.splitlines()[1:]] == ["row-1"]
    assert "rejected (not_buggy)" in out
    code, out, _ = _run(capsys, "rows", str(source), "--competition", "nlp-getting-started", "--json")
    rows = json.loads(out)
    assert [(r["id"], r["status"], r["reject_reason"]) for r in rows] == [("row-1", "rejected", "not_buggy")]


def test_annotate_sets_fields_flags_and_files(source: Path, tmp_path: Path, capsys) -> None:
    fix_file = tmp_path / "fix.py"
    fix_file.write_text(FIX)
    code, out, err = _run(
        capsys,
        "annotate",
        str(source),
        "--id",
        "row-0",
        "--set",
        "revised_analysis=reads ./input",
        "--set",
        "bug_fixed=no",
        "--set-file",
        f"fixed_code={fix_file}",
        "--fixable",
        "yes",
        "--confirmed",
        "yes",
        "--add-time",
        "90",
    )
    assert code == 0, err
    assert "nodefix: workspace " in err
    assert "saved revised_analysis, bug_fixed, fixed_code, fixable, bug_confirmed" in out
    code, out, _ = _run(capsys, "show", str(source), "--id", "row-0", "--json")
    shown = json.loads(out)
    step = shown["steps"][0]
    assert (step["revised_analysis"], step["fixed_code"], step["fixable"], step["bug_confirmed"]) == (
        "reads ./input",
        FIX,
        True,
        True,
    )
    assert step["time_spent"] == 90
    assert shown["status"] == "in_progress"
    assert shown["source"]["competition_id"] == "spaceship-titanic"
    code, out, _ = _run(capsys, "show", str(source), "--id", "row-0")
    assert "--- fixed_code ---\nprint('fixed')" in out
    assert "fixable: yes" in out


def test_show_lists_runs_and_annotate_uses_the_configured_annotator(source: Path, run_record, capsys) -> None:
    (source.parent / "nodefix.toml").write_text('[ui]\nannotator = "carol"\n')
    with open_workspace(source) as ws:
        ws.add_run("row-0", 0, "replicate", run_record("error"))
    _run(capsys, "annotate", str(source), "--id", "row-0", "--set", "revised_plan=read ./data")
    code, out, _ = _run(capsys, "show", str(source), "--id", "row-0")
    assert code == 0
    assert "annotator: carol" in out
    assert "#1 step 0 replicate: error - error run" in out
    code, out, _ = _run(capsys, "show", str(source), "--id", "row-0", "--json")
    assert [run["purpose"] for run in json.loads(out)["runs"]] == ["replicate"]


def test_annotate_reject_with_note_then_undo(source: Path, capsys) -> None:
    code, out, _ = _run(
        capsys, "annotate", str(source), "--id", "row-2", "--reject", "incomplete", "--note", "cut off mid-loop"
    )
    assert code == 0
    assert "row-2: rejected (incomplete)" in out
    with open_workspace(source) as ws:
        assert ws.status("row-2") == ("rejected", "incomplete", "cut off mid-loop")
    code, out, _ = _run(capsys, "annotate", str(source), "--id", "row-2", "--undo")
    assert code == 0
    assert out.startswith("undid: row row-2: status untouched -> rejected")
    code, out, _ = _run(capsys, "annotate", str(source), "--id", "row-2", "--undo")
    assert "nothing to undo" in out


def test_annotate_done_is_refused_with_blockers_and_exit_2(source: Path, capsys) -> None:
    code, _, err = _run(
        capsys,
        "annotate",
        str(source),
        "--id",
        "row-0",
        "--fixable",
        "yes",
        "--set",
        "bug_fixed=yes",
        "--set",
        "fixed_code=def f(:",
        "--done",
    )
    assert code == 2
    message = err.strip().splitlines()[-1]
    assert message.startswith("nodefix: row 'row-0' cannot be done yet:")
    assert "never run to verify it" in message
    assert "does not parse" in message


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--set", "colour=red"], "unknown field 'colour'"),
        (["--set", "revised_plan"], "expected FIELD=VALUE"),
        (["--set", "bug_fixed=maybe"], "bug_fixed=maybe: expected yes or no"),
        (["--set-file", "fixable=x.txt"], "'fixable' is not a text field"),
        (["--set-file", "fixed_code=/no/such/file.py"], "/no/such/file.py: cannot read it"),
        (["--note", "why"], "--note goes with --reject or --status"),
        (["--step", "3", "--set", "revised_plan=x"], "no debug step 3"),
        (["--new-step"], "cannot start step 1 from step 0: it has no fixed code"),
    ],
)
def test_annotate_bad_requests_exit_2(source: Path, capsys, argv: list[str], words: str) -> None:
    code, _, err = _run(capsys, "annotate", str(source), "--id", "row-0", *argv)
    assert code == 2
    assert words in err


def test_unknown_id_exits_2(source: Path, capsys) -> None:
    code, _, err = _run(capsys, "show", str(source), "--id", "ghost")
    assert code == 2
    assert "no row with id 'ghost'" in err


def test_new_step_needs_a_run_of_the_fix_ending_in_a_new_error(source: Path, tmp_path: Path, capsys) -> None:
    """Issue 15 item 8: --new-step says why not while the fix was never run; nothing is saved then."""
    ws_dir = tmp_path / "elsewhere"
    _run(capsys, "annotate", str(source), "--workspace", str(ws_dir), "--id", "row-0", "--set", f"fixed_code={FIX}")
    code, _, err = _run(
        capsys,
        "annotate",
        str(source),
        "--workspace",
        str(ws_dir),
        "--id",
        "row-0",
        "--new-step",
        "--set",
        "revised_analysis=x",
    )
    assert code == 2
    assert err.strip().splitlines()[-1] == (
        "nodefix: row 'row-0': cannot start step 1 from step 0: its fix was never run (r, or nodefix run --code)"
    )
    with open_workspace(ws_dir) as ws:
        assert [s.index for s in ws.steps("row-0")] == [0]
        assert ws.step("row-0").revised_analysis == ""
