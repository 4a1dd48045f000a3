"""The trace pane over a real workspace: which traces, the cut banner, prompts, pickers, tracing on a key."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Input, Static
from tui_helpers import notices, notified, screen_text, wait_until

from tracer_adapter.trace_index import index_path
from tui.screens.entry_picker import ChoicePicker, EntryPicker
from tui.widgets.trace_browser import TraceBrowser
from tui.widgets.trace_pane import TracePane, cut_banner
from workspace.config import Config, RunSettings, TraceSettings
from workspace.done_check import code_sha256
from workspace.records import TraceMeta
from workspace.store import Workspace, open_workspace

EXAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "trace_examples"
EX2_CODE = (EXAMPLES / "ex2.py").read_text()
EX2_TRACE = (EXAMPLES / "ex2.trace").read_text()
SIZE = (80, 24)
DEADLINE = 60.0
RECORDED = (
    "Traceback (most recent call last):\n"
    '  File "runfile.py", line 10, in <module>\n'
    "    main()\n"
    '  File "runfile.py", line 9, in main\n'
    "    return f({1: 2, 2: 4, 3: 3}, 3)\n"
    '  File "runfile.py", line 6, in f\n'
    "    new_d[key] += 1\n"
    "KeyError: 3\n"
)
CUT_META = {
    "tracer": "builtin",
    "frames": 12,
    "entry": "main",
    "tracer_meta": {
        "frames_total": 30,
        "frames_written": 12,
        "frames_dropped": 18,
        "first_kept": [1, 5],
        "last_kept": [24, 30],
        "caps_fired": ["max_frames"],
        "stopped_by_time": False,
    },
}


class PaneApp(App):
    def __init__(self, ws: Workspace, config: Config, row_id: str = "row-0") -> None:
        super().__init__()
        self.ws, self.config, self.row_id = ws, config, row_id
        self.inserted: list[list[str]] = []
        self.messages: list[str] = []  # what tui_helpers.notices reads, as NodefixApp keeps it

    def notify(self, message: str, **kwargs) -> None:
        self.messages.append(message)
        super().notify(message, **kwargs)

    def compose(self) -> ComposeResult:
        yield TracePane(self.ws, self.config)

    def on_mount(self) -> None:
        pane = self.query_one(TracePane)
        pane.show_step(self.row_id, 0)
        pane.browser.focus()

    def on_trace_browser_insert_lines(self, event: TraceBrowser.InsertLines) -> None:
        self.inserted.append(event.lines)


@pytest.fixture
def config(tmp_path: Path) -> Config:
    data = tmp_path / "data"
    (data / "spaceship-titanic" / "prepared" / "public").mkdir(parents=True)
    return Config(run=RunSettings(data_root=data, time_limit=30.0))


@pytest.fixture
def ws(make_dataset, tmp_path: Path):
    code = EX2_CODE + "main()\n"
    workspace = open_workspace(make_dataset([{"code": code, "_term_out": RECORDED}]), tmp_path / "ws")
    yield workspace
    workspace.close()


def store_trace(ws: Workspace, text: str, meta: dict, code: str | None = None) -> int:
    """Store a trace the way the adapter does: the file, its code beside it, a row in the workspace."""
    code = ws.step("row-0", 0).code if code is None else code
    folder = ws.trace_dir("row-0", 0)
    n = len(ws.traces("row-0", 0))
    trace = folder / f"stored-{n}.cwm"
    trace.write_text(text, encoding="utf-8")
    Path(str(trace) + ".code.py").write_text(code, encoding="utf-8")
    meta_path = folder / f"stored-{n}.meta.json"
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    return ws.add_trace(
        "row-0",
        0,
        code_sha256=code_sha256(code),
        trace_path=trace,
        meta_path=meta_path,
        index_path=index_path(trace),
        meta=meta,
    )


def cut_trace() -> str:
    """ex2's trace with frames 6..11 replaced by the built-in tracer's cut note."""
    lines = EX2_TRACE.split("\n")
    note = "<|frame_sep|>[cwm_tracer: 6 frames cut here (frames 6..11 of 20); cap: max_frames]"
    return "\n".join(lines[:5] + [note] + lines[11:])


def text_of(app: App, selector: str) -> str:
    return str(app.query_one(selector, Static).render())


async def test_opens_the_newest_trace_and_picks_another(ws: Workspace, config: Config) -> None:
    older = store_trace(ws, EX2_TRACE, {"frames": 19, "entry": "main"})
    newer = store_trace(ws, cut_trace(), CUT_META)

    app = PaneApp(ws, config)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.query_one(TracePane)
        await wait_until(pilot, lambda: pane.index is not None, timeout=DEADLINE, what="the index")
        assert pane.record.id == newer
        assert "buggy code" in text_of(app, "#trace-header")
        assert "2 traces" in text_of(app, "#trace-header")
        await pilot.press("p")
        assert isinstance(app.screen, ChoicePicker)
        await pilot.press("2")
        await wait_until(
            pilot,
            lambda: pane.record.id == older and pane.index is not None and not pane.job,
            timeout=DEADLINE,
            what="the older trace",
        )
        assert len(pane.index) == 20
        assert not app.query_one("#trace-cut").display


async def test_cut_banner_and_cut_line(ws: Workspace, config: Config) -> None:
    store_trace(ws, cut_trace(), CUT_META)

    app = PaneApp(ws, config)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.query_one(TracePane)
        await wait_until(pilot, lambda: pane.index is not None, timeout=DEADLINE, what="the index")
        banner = app.query_one("#trace-cut", Static)
        assert banner.display
        assert str(banner.render()).startswith("cut: max_frames after frame 5, 18 frames dropped")
        assert pane.browser.cut.line == 5
        rows = ["".join(seg.text for seg in pane.browser.render_line(y)) for y in range(pane.browser.size.height)]
        assert rows[5].startswith("✂ <|frame_sep|>[cwm_tracer: 6 frames cut here")


async def test_prompts_find_filter_and_source_line(ws: Workspace, config: Config) -> None:
    store_trace(ws, EX2_TRACE, {"frames": 19, "entry": "main"})

    app = PaneApp(ws, config)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.query_one(TracePane)
        browser = pane.browser
        await wait_until(pilot, lambda: pane.index is not None, timeout=DEADLINE, what="the index")
        await pilot.press("slash", *"KeyError", "enter")
        assert browser.cursor_line == 16
        assert browser.has_focus
        await pilot.press("S", "6", "enter")  # no frame of line 6 (new_d[key] += 1) after 16: back to its first
        assert browser.cursor_line == 7
        assert notified(app, "No later frame of line 6: back to its first")
        await pilot.press("S", "6", "enter")
        assert browser.cursor_line == 11
        await pilot.press("S", "4", "2", "enter")  # a line that never runs: says so and stays
        assert browser.cursor_line == 11
        assert notified(app, "Line 42 never runs in this trace"), notices(app)
        await pilot.press("home", "S", "6", "enter")
        assert browser.cursor_line == 7
        await pilot.press("S", "x", "enter")  # not a number: says so and stays
        assert browser.cursor_line == 7
        assert notified(app, "Not a line number: 'x'")
        await pilot.press("F", *"new_d[key] += 1", "enter")
        await wait_until(
            pilot, lambda: browser.row_count == 5 and not browser.busy, timeout=DEADLINE, what="the text filter"
        )
        assert "filter all 'new_d[key] += 1': 5 shown" in text_of(app, "#trace-status")
        await pilot.press("K")
        assert isinstance(app.screen, ChoicePicker)
        await pilot.press("5")  # exception
        await wait_until(
            pilot, lambda: browser.row_count == 2 and not browser.busy, timeout=DEADLINE, what="the kind filter"
        )
        assert [browser.line_at(r) for r in range(2)] == [15, 16]  # the exception and its value
        await pilot.press("slash", "escape")
        assert not app.query_one("#trace-prompt", Input).display
        assert browser.has_focus


async def test_variable_picker_jumps_to_the_next_change(ws: Workspace, config: Config) -> None:
    store_trace(ws, EX2_TRACE, {"frames": 19, "entry": "main"})

    app = PaneApp(ws, config)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.query_one(TracePane)
        await wait_until(pilot, lambda: pane.index is not None, timeout=DEADLINE, what="the index")
        await pilot.press("down", "down", "down", "down", "v")
        picker = app.screen
        assert isinstance(picker, ChoicePicker)
        assert picker.labels == ["d", "k", "new_d"]
        await pilot.press("down", "down", "enter")
        assert pane.browser.cursor_line == 7
        assert "line event at line 6, frame 7, depth 1" in text_of(app, "#trace-status")


async def test_insert_reaches_the_host_with_raw_lines(ws: Workspace, config: Config) -> None:
    store_trace(ws, EX2_TRACE, {"frames": 19, "entry": "main"})

    app = PaneApp(ws, config)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.query_one(TracePane)
        await wait_until(pilot, lambda: pane.index is not None, timeout=DEADLINE, what="the index")
        await pilot.press("down", "space", "space")
        assert "2 marked" in text_of(app, "#trace-status")
        await pilot.press("i")
        await pilot.pause()
        assert app.inserted == [EX2_TRACE.split("\n")[1:3]]


async def test_no_trace_yet_says_how_to_make_one(ws: Workspace, config: Config) -> None:
    app = PaneApp(ws, config)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert text_of(app, "#trace-header").startswith("No trace of this step yet")
        assert app.query_one(TracePane).browser.row_count == 0


def test_entry_picker_offers_failing_function_whole_script_and_functions(ws: Workspace) -> None:
    picker = EntryPicker(ws.step("row-0", 0).code, RECORDED, "buggy code")
    assert picker.choices == [("f  (function of the failing line)", "f"), ("the whole script", None), ("main", "main")]


async def test_trace_key_traces_the_buggy_code_and_opens_it(ws: Workspace, config: Config) -> None:
    app = PaneApp(ws, config)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.query_one(TracePane)
        await pilot.press("t")
        assert isinstance(app.screen, EntryPicker)
        await pilot.press("3")  # main
        await wait_until(
            pilot, lambda: not pane.job and pane.index is not None, timeout=DEADLINE, what="the trace to open"
        )
        shown = "\n".join(pane.browser.raw_line(line) for line in range(pane.browser.row_count))
        assert re.sub(r"0x[0-9a-f]+", "0xADDR", shown) == EX2_TRACE  # the client's golden trace
        assert len(ws.traces("row-0", 0)) == 1
        assert "buggy code" in text_of(app, "#trace-header")
        crash = pane.index.crash_line()
        assert crash is not None
        assert "<|exception_sep|>" in pane.browser.raw_line(crash)
        assert pane.browser.cursor_line == crash  # a fresh trace opens at the crash it explains


async def test_code_without_functions_is_traced_at_once_and_opens_at_its_crash(make_dataset, tmp_path, config) -> None:
    code = "rows = [1, 2]\ntotal = 0\nfor r in rows:\n    total += r\nprint(rows[total])\n"
    workspace = open_workspace(make_dataset([{"code": code}], name="flat.parquet"), tmp_path / "flat-ws")
    try:
        app = PaneApp(workspace, config)
        async with app.run_test(size=SIZE) as pilot:
            pane = app.query_one(TracePane)
            await pilot.press("t")  # nothing to choose: no picker
            assert not isinstance(app.screen, EntryPicker)
            await wait_until(
                pilot, lambda: not pane.job and pane.index is not None, timeout=DEADLINE, what="the trace to open"
            )
            line = pane.browser.raw_line(pane.browser.cursor_line)
            assert line.startswith("<|frame_sep|><|exception_sep|>")
            assert "print(rows[total])" in line
            assert workspace.traces("row-0", 0)[0].meta.entry is None  # the whole script
    finally:
        workspace.close()


async def test_the_first_trace_of_a_step_opens_scrolled_to_its_crash(make_dataset, tmp_path, config) -> None:
    """The cursor was on the crash, but a first trace's list stayed on its first rows: the browser had no
    scrollbar yet (no trace before it), and Textual ignores a scroll until it has one."""
    loop = "total = 0\nfor i in range(300):\n    total += i\nraise ValueError(total)\n"
    workspace = open_workspace(make_dataset([{"code": loop}], name="long.parquet"), tmp_path / "long-ws")
    try:
        app = PaneApp(workspace, config)
        async with app.run_test(size=SIZE) as pilot:
            pane = app.query_one(TracePane)
            await pilot.press("t")
            await wait_until(
                pilot, lambda: not pane.job and pane.index is not None, timeout=DEADLINE, what="the trace to open"
            )
            await pilot.pause()
            browser = pane.browser
            assert browser.cursor_line == pane.index.crash_line() > SIZE[1]
            top, height = browser.scroll_offset.y, browser.scrollable_content_region.height
            assert top <= browser.cursor < top + height, (top, height, browser.cursor)
            assert "exc     4  raise ValueError(total)" in screen_text(app)
    finally:
        workspace.close()


async def test_tracing_can_be_cancelled(ws: Workspace, config: Config) -> None:
    slow = "import time\ndef main():\n    while True:\n        time.sleep(0.05)\nmain()\n"
    ws.update_step("row-0", 0, fixed_code=slow)

    app = PaneApp(ws, config)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.query_one(TracePane)
        await pilot.press("T")
        assert isinstance(app.screen, EntryPicker)
        await pilot.press("enter")
        await wait_until(pilot, lambda: pane.job == "tracing", timeout=DEADLINE, what="tracing to start")
        await wait_until(
            pilot,
            lambda: "tracing… " in str(app.query_one("#trace-progress-label", Static).render()),
            timeout=DEADLINE,
            what="the elapsed time",
        )
        await pilot.press("ctrl+k")  # k moves up in the browser
        await wait_until(pilot, lambda: not pane.job, timeout=DEADLINE, what="the cancel")
        assert "Tracing cancelled" in notices(app)
        assert pane.index is None  # whatever the tracer stored before the cancel is listed, not opened


async def test_a_fresh_big_trace_is_indexed_with_progress_and_can_be_cancelled(ws: Workspace, config: Config) -> None:
    body_lines = EX2_TRACE.split("\n")[3:15]  # line events of f
    text = "\n".join([*EX2_TRACE.split("\n")[:3], *body_lines * 40_000, *EX2_TRACE.split("\n")[15:]])
    store_trace(ws, text, {"frames": 480_007, "entry": "main"})

    app = PaneApp(ws, config)
    async with app.run_test(size=SIZE) as pilot:
        pane = app.query_one(TracePane)
        assert pane.job == "indexing"
        assert app.query_one("#trace-progress").display
        await pilot.press("ctrl+k")  # k moves up in the browser
        await wait_until(pilot, lambda: not pane.job, timeout=DEADLINE, what="the cancel")
        assert pane.index is None
        assert not app.query_one("#trace-progress").display
        await pilot.press("p", "1")  # open it again, to the end this time
        await wait_until(pilot, lambda: pane.index is not None, timeout=DEADLINE, what="the index")
        assert len(pane.index) == 3 + 12 * 40_000 + 5
        assert not app.query_one("#trace-progress").display


async def test_a_budget_cut_trace_says_where_and_why(make_dataset, tmp_path: Path, config: Config) -> None:
    loop = "def main():\n    total = 0\n    for i in range(500):\n        total += i\n    raise ValueError(total)\nmain()\n"
    workspace = open_workspace(make_dataset([{"code": loop}], name="loop.parquet"), tmp_path / "loop-ws")
    capped = dataclasses.replace(config, trace=TraceSettings(max_frames=100))

    try:
        app = PaneApp(workspace, capped)
        async with app.run_test(size=SIZE) as pilot:
            pane = app.query_one(TracePane)
            await pilot.press("t")
            picker = app.screen
            assert isinstance(picker, EntryPicker)
            await pilot.press(str(picker.labels.index("main") + 1))
            await wait_until(
                pilot, lambda: not pane.job and pane.index is not None, timeout=DEADLINE, what="the trace to open"
            )
            banner = text_of(app, "#trace-cut")
            assert app.query_one("#trace-cut").display
            assert banner.startswith("cut: max_frames after frame ")
            assert "frames dropped" in banner
            cut = pane.browser.cut
            assert "frames cut here" in pane.browser.raw_line(cut.line)
            assert "cut" in text_of(app, "#trace-header")
            await pilot.press("E")  # the failure is kept after the cut
            assert pane.browser.cursor_line > cut.line
            assert "<|exception_sep|>" in pane.browser.raw_line(pane.browser.cursor_line)
    finally:
        workspace.close()


def test_cut_banner_for_a_trace_stopped_by_time_and_for_an_uncut_one() -> None:
    stopped = {
        "tracer_meta": {
            "frames_total": 1234,
            "frames_dropped": 0,
            "caps_fired": ["max_seconds"],
            "stopped_by_time": True,
        }
    }
    assert cut_banner(TraceMeta.from_json(stopped)) == (
        "cut: max_seconds after frame 1,234: tracing stopped there and the script ran on untraced"
    )
    uncut = {"tracer_meta": {"frames_total": 19, "frames_dropped": 0, "caps_fired": []}}
    assert cut_banner(TraceMeta.from_json(uncut)) is None
    assert cut_banner(TraceMeta.from_json({"tracer": "client"})) is None
