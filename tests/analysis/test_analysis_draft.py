"""The drafted cwm_analysis: its shape on ex2, verbatim on every crashing demo row, placeholders refused."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from analysis_rows import CRASHING, TWO_STEPS

from tracer_adapter.draft import FENCE, draft_analysis, draft_for_step
from tracer_adapter.trace_index import TraceIndex
from tracer_adapter.verbatim import check_analysis, quoted_lines
from tui.cli import main
from workspace.placeholders import PLACEHOLDER_OPEN, placeholder_problems
from workspace.store import open_workspace
from workspace.validate import validate_deliverable

# the lines the client's own example analysis of ex2 quotes (TRACE_FORMAT.md)
CLIENT_QUOTES = [
    '<|frame_sep|><|line_sep|>{"d": "{1: 2, 2: 4, 3: 3}", "k": "3"}<|action_sep|>    new_d = {}',
    "<|frame_sep|><|exception_sep|><|action_sep|>        new_d[key] += 1",
]


def _blocks(text: str) -> list[list[str]]:
    """The fenced blocks of an analysis, as lists of lines."""
    parts = text.split(f"\n{FENCE}\n")
    return [part.split("\n") for part in parts[1::2]]


def test_ex2_draft_quotes_what_the_client_quotes_with_a_placeholder_before_each_block(golden_trace) -> None:
    trace = golden_trace("ex2")
    with TraceIndex.open(trace) as index:
        text = draft_analysis(index)
    lines = text.split("\n")
    for quote in CLIENT_QUOTES:
        assert quote in lines
    blocks = _blocks(text)
    assert len(blocks) == 3
    assert blocks[0][-1].endswith("<|action_sep|>def f(d, k):")  # the call that leads to the bug
    assert blocks[2][0] == CLIENT_QUOTES[1]
    assert blocks[2][1].startswith("<|arg_sep|>\"(<class 'KeyError'>, KeyError(3)")  # its value, and the return
    assert text.count(PLACEHOLDER_OPEN) == 3
    assert check_analysis(text, [trace]) == []


def test_loops_keep_their_first_and_last_iteration(golden_trace) -> None:
    with TraceIndex.open(golden_trace("ex2")) as index:
        before = _blocks(draft_analysis(index))[1]
    keys = [line.split('"key": "')[1][0] for line in before if '"key": "' in line]
    # iteration 1 (if, store, add), the header that starts iteration 3 (still showing key 2), iteration 3
    assert keys == ["1", "1", "1", "2", "3", "3"]
    assert before[-1].endswith("new_d[key] += 1")  # the failing line's event, with the values it reads


def test_the_fix_part_quotes_the_fixed_run_at_the_same_lines_and_its_return(traced_demo) -> None:
    with open_workspace(traced_demo.dataset, traced_demo.workspace) as ws:
        step = ws.step(TWO_STEPS.id, 0)
        text = draft_for_step(ws, step)
        paths = ws.trace_paths(TWO_STEPS.id, 0)
    assert "verify the fix" in text
    assert len(_blocks(text)) == 5
    assert check_analysis(text, paths) == []
    fix_lines = {line for block in _blocks(text)[3:] for line in block}
    with TraceIndex.open(paths[-1]) as fix:  # the fix's trace is the later one
        assert all(fix.has_line(line) for line in fix_lines)
    # the line the fix changed is found in the fixed run by its line number, though its text differs
    changed = [line for line in step.fixed_code.splitlines() if line not in step.code.splitlines()]
    assert changed
    assert any(line.endswith("<|action_sep|>" + source) for source in changed for line in fix_lines)


@pytest.mark.parametrize("row", CRASHING, ids=[row.name for row in CRASHING])
def test_every_quoted_line_of_a_demo_draft_is_verbatim(row, traced_demo) -> None:
    with open_workspace(traced_demo.dataset, traced_demo.workspace) as ws:
        step = ws.step(row.id, 0)
        text = draft_for_step(ws, step)
        paths = ws.trace_paths(row.id, 0)
    assert quoted_lines(text)
    assert check_analysis(text, paths) == []


def test_the_second_step_of_a_real_script_drafts_from_its_own_trace(traced_demo) -> None:
    with open_workspace(traced_demo.dataset, traced_demo.workspace) as ws:
        step = ws.step(TWO_STEPS.id, 1)
        text = draft_for_step(ws, step)
        paths = ws.trace_paths(TWO_STEPS.id, 1)
    assert check_analysis(text, paths) == []
    assert f"<class '{TWO_STEPS.fixes[0].exception}'>" in _blocks(text)[-1][1]


@pytest.fixture
def workspace_copy(traced_demo, tmp_path: Path) -> Path:
    copy = tmp_path / "ws"
    shutil.copytree(traced_demo.workspace, copy)
    return copy


def test_written_draft_blocks_done_and_validate_until_the_placeholders_are_gone(
    traced_demo, workspace_copy: Path, tmp_path: Path, capsys
) -> None:
    row = CRASHING[0]
    target = [str(traced_demo.dataset), "--workspace", str(workspace_copy), "--id", row.id]
    assert main(["draft", *target, "--write"]) == 0
    printed = capsys.readouterr().out
    assert main(["annotate", *target, "--done"]) == 2
    assert "still holds a draft placeholder" in capsys.readouterr().err
    out = tmp_path / "out.parquet"
    assert main(["export", str(traced_demo.dataset), "--workspace", str(workspace_copy), "--out", str(out)]) == 0
    problems = [v for v in validate_deliverable(out, workspace=workspace_copy) if v.id == row.id]
    assert problems
    assert all("draft placeholder" in v.message for v in problems)
    with open_workspace(traced_demo.dataset, workspace_copy) as ws:
        assert ws.step(row.id, 0).cwm_analysis == printed
        filled = printed.replace(PLACEHOLDER_OPEN, "We see ").replace("]]", ".")
        ws.update_step(row.id, 0, cwm_analysis=filled)
        assert placeholder_problems(ws.step(row.id, 0).cwm_analysis) == []


def test_write_keeps_an_analysis_already_there(traced_demo, workspace_copy: Path, capsys) -> None:
    row = CRASHING[1]
    with open_workspace(traced_demo.dataset, workspace_copy) as ws:
        ws.update_step(row.id, 0, cwm_analysis="my own words")
    target = [str(traced_demo.dataset), "--workspace", str(workspace_copy), "--id", row.id]
    assert main(["draft", *target, "--write"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2  # the workspace line, then one line saying why
    assert "cwm_analysis already holds text" in err[-1]
    with open_workspace(traced_demo.dataset, workspace_copy) as ws:
        assert ws.step(row.id, 0).cwm_analysis == "my own words"


@pytest.mark.parametrize(
    ("name", "says"), [("nlp-not-buggy", "no trace of the step's code"), ("tps-cut-off", "no trace of the step's code")]
)
def test_a_step_without_a_crashing_trace_is_one_clear_line(traced_demo, capsys, name: str, says: str) -> None:
    from demo.catalogue import ROWS

    row = next(r for r in ROWS if r.name == name)
    args = ["draft", str(traced_demo.dataset), "--workspace", str(traced_demo.workspace), "--id", row.id]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert says in err[-1]
    assert row.id in err[-1]


def test_draft_of_a_trace_that_returns_is_refused(golden_trace) -> None:
    with (
        TraceIndex.open(golden_trace("ex1")) as index,
        pytest.raises(ValueError, match="does not end with an exception"),
    ):
        draft_analysis(index)
