"""Trace lines land in cwm_analysis exactly as printed, and the verbatim check watches them."""

from __future__ import annotations

import shutil
from pathlib import Path

from textual.widgets import Static
from tui_helpers import SMALL, open_task, wait_until

from workspace.run_rules import code_sha256

EXAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "trace_examples" / "ex2.trace"


def add_example_trace(ws) -> list[str]:
    trace = ws.trace_dir("row-0", 0) / "ex2.trace"
    shutil.copy(EXAMPLE, trace)
    meta = trace.with_suffix(".meta.json")
    meta.write_text("{}")
    ws.add_trace(
        "row-0",
        0,
        code_sha256=code_sha256(ws.step("row-0").code),  # a trace of the step's code: quotable
        trace_path=trace,
        meta_path=meta,
        index_path=Path(str(trace) + ".idx"),
        meta={},
    )
    return trace.read_text(encoding="utf-8").split("\n")


async def test_marked_lines_go_in_as_a_fenced_block_and_are_checked(make_app, workspace) -> None:
    lines = add_example_trace(workspace)

    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        task = await open_task(app, pilot)
        await pilot.press("5", "enter", "tab", "tab", *"The key is missing:", "enter", "escape")
        await pilot.press("4")
        await wait_until(pilot, lambda: task.trace_pane.index is not None, what="trace index loaded")
        await wait_until(pilot, lambda: app.focused is task.trace_pane.browser, what="the browser focused")
        await pilot.press("space", "down", "space", "i")
        await wait_until(
            pilot,
            lambda: workspace.step("row-0").cwm_analysis.endswith("```\n"),
            timeout=2,
            what="inserted block saved",
        )
        saved = workspace.step("row-0").cwm_analysis
        head, fence, rest = saved.partition("```\n")
        quoted = rest.removesuffix("```\n").split("\n")[:-1]
        assert head == "The key is missing:\n"
        assert fence
        assert len(quoted) == 2
        assert all(line in lines for line in quoted)
        assert task.annotation_pane.editor("cwm_analysis").text == saved
        status = task.query_one("#verbatim-status", Static)
        await wait_until(pilot, lambda: "every quoted trace line matches" in str(status.render()), what="verbatim ok")
        await pilot.press("5", "enter", "tab", "tab", "up", "up", "end", "X")  # spoil the second quoted line
        await wait_until(pilot, lambda: "not in any trace" in str(status.render()), what="verbatim problem")
        assert status.has_class("verbatim-problem")
