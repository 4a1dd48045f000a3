"""The trace browser on the client's ex2 golden trace, driven with Pilot at 80x24."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from textual.app import App, ComposeResult

from tracer_adapter.trace_index import TraceIndex
from tui.widgets.trace_browser import CutPoint, TraceBrowser

EXAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "trace_examples"
SIZE = (80, 24)


class BrowserApp(App):
    """The browser alone, recording what it posts."""

    def __init__(self, trace: Path, code: str | None = None) -> None:
        super().__init__()
        self.trace = trace
        self.code = code
        self.inserted: list[list[str]] = []
        self.yanked: list[str] = []

    def compose(self) -> ComposeResult:
        yield TraceBrowser()

    def on_mount(self) -> None:
        browser = self.query_one(TraceBrowser)
        browser.set_index(TraceIndex.open(self.trace, code=self.code))
        browser.focus()

    def on_trace_browser_insert_lines(self, event: TraceBrowser.InsertLines) -> None:
        self.inserted.append(event.lines)

    def on_trace_browser_yank(self, event: TraceBrowser.Yank) -> None:
        self.yanked.append(event.line)


@pytest.fixture
def ex2(tmp_path: Path) -> Path:
    trace = tmp_path / "ex2.trace"
    shutil.copy(EXAMPLES / "ex2.trace", trace)
    return trace


def raw_lines(trace: Path) -> list[str]:
    return trace.read_text(encoding="utf-8").split("\n")


async def settle(pilot) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def screen_text(app: App) -> str:
    browser = app.query_one(TraceBrowser)
    return "\n".join("".join(seg.text for seg in browser.render_line(y)) for y in range(browser.size.height))


async def test_marked_lines_are_inserted_raw_in_trace_order(ex2: Path) -> None:
    app = BrowserApp(ex2)
    async with app.run_test(size=SIZE) as pilot:
        browser = app.query_one(TraceBrowser)
        await pilot.press("E")  # the first exception, line 15
        await pilot.press("space")  # marks 15, moves to 16
        await pilot.press("home", "down", "down", "down", "space")  # marks 3
        assert browser.marks == {3, 15}
        await pilot.press("up", "space")  # unmarks 3
        assert browser.marks == {15}
        await pilot.press("up", "space", "i")
        await pilot.pause()
        lines = raw_lines(ex2)
        assert app.inserted == [[lines[3], lines[15]]]
        assert browser.marks == set()
        assert "●" not in screen_text(app)


async def test_insert_without_marks_inserts_the_cursor_line_raw(ex2: Path) -> None:
    app = BrowserApp(ex2)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("E", "i")  # the first exception, line 15
        await pilot.pause()
        assert app.inserted == [[raw_lines(ex2)[15]]]
        assert app.query_one(TraceBrowser).marks == set()


async def test_yank_copies_the_cursor_line_exactly(ex2: Path) -> None:
    app = BrowserApp(ex2)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("end", "up", "y")
        await pilot.pause()
        expected = raw_lines(ex2)[18]
        assert expected.startswith("<|arg_sep|>\"(<class 'KeyError'>")
        assert app.yanked == [expected]
        assert app.clipboard == expected


async def test_jump_to_first_exception(ex2: Path) -> None:
    app = BrowserApp(ex2)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("E")
        browser = app.query_one(TraceBrowser)
        assert browser.cursor_line == 15
        assert browser.raw_line(15) == "<|frame_sep|><|exception_sep|><|action_sep|>        new_d[key] += 1"


@pytest.mark.parametrize("with_code", [True, False], ids=["line-numbers", "source-text"])
async def test_next_frame_of_the_cursor_source_line(ex2: Path, with_code: bool) -> None:
    code = (EXAMPLES / "ex2.py").read_text() if with_code else None
    app = BrowserApp(ex2, code)
    async with app.run_test(size=SIZE) as pilot:
        browser = app.query_one(TraceBrowser)
        await pilot.press("down", "down", "down", "down")  # "for key, val in d.items():"
        assert browser.cursor_line == 4
        await pilot.press("s")
        assert browser.cursor_line == 8
        await pilot.press("s")
        assert browser.cursor_line == 12
        if with_code:
            browser.jump_to_source_line(6)  # new_d[key] += 1
            assert browser.cursor_line == 14


async def test_next_change_of_a_variable(ex2: Path) -> None:
    app = BrowserApp(ex2)
    async with app.run_test(size=SIZE) as pilot:
        browser = app.query_one(TraceBrowser)
        await pilot.press("down", "down", "down")
        assert list(browser.cursor_locals()) == ["d", "k"]
        browser.jump_to_change("new_d")  # first shown: "{}"
        assert browser.cursor_line == 4
        browser.jump_to_change("new_d")  # "{1: 2}"
        assert browser.cursor_line == 7
        browser.jump_to_change("key")  # "1" -> "2"
        assert browser.cursor_line == 9


async def test_search_forwards_and_backwards(ex2: Path) -> None:
    app = BrowserApp(ex2)
    async with app.run_test(size=SIZE) as pilot:
        browser = app.query_one(TraceBrowser)
        browser.search("KeyError(3)")
        assert browser.cursor_line == 16
        await pilot.press("n")
        assert browser.cursor_line == 18
        await pilot.press("n")  # no later match: stays
        assert browser.cursor_line == 18
        await pilot.press("N")
        assert browser.cursor_line == 16


async def test_filter_by_kind_keeps_exception_values(ex2: Path) -> None:
    app = BrowserApp(ex2)
    async with app.run_test(size=SIZE) as pilot:
        browser = app.query_one(TraceBrowser)
        browser.set_filter(frozenset({"exception"}), "")
        await settle(pilot)
        # the two exception events and the two lines that start with their values
        assert [browser.line_at(r) for r in range(browser.row_count)] == [15, 16, 17, 18]
        browser.set_filter(frozenset({"call"}), "")
        await settle(pilot)
        assert [browser.line_at(r) for r in range(browser.row_count)] == [0, 2]
        await pilot.press("C")
        await settle(pilot)
        assert browser.row_count == len(raw_lines(ex2))


async def test_filter_by_text_and_kind_and_mark_through_it(ex2: Path) -> None:
    app = BrowserApp(ex2)
    async with app.run_test(size=SIZE) as pilot:
        browser = app.query_one(TraceBrowser)
        browser.set_filter(frozenset({"line"}), "new_d[key] += 1")
        await settle(pilot)
        assert [browser.line_at(r) for r in range(browser.row_count)] == [7, 11, 14]
        await pilot.press("down", "space", "space", "i")
        await pilot.pause()
        lines = raw_lines(ex2)
        assert app.inserted == [[lines[11], lines[14]]]
        assert screen_text(app).count("\n") == 23
        assert screen_text(app).splitlines()[3].strip() == ""


async def test_fold_hides_the_call_until_its_return(ex2: Path) -> None:
    app = BrowserApp(ex2)
    async with app.run_test(size=SIZE) as pilot:
        browser = app.query_one(TraceBrowser)
        await pilot.press("down", "down", "down", "down", "down")  # inside f
        await pilot.press("c")
        await settle(pilot)
        assert browser.folds == {2: 16}
        assert [browser.line_at(r) for r in range(browser.row_count)] == [0, 1, 2, 16, 17, 18, 19]
        assert browser.cursor_line == 2
        assert screen_text(app).splitlines()[2].startswith("▸ ")
        await pilot.press("E")  # the exception is inside the fold: it unfolds
        assert browser.folds == {}
        assert browser.cursor_line == 15
        await pilot.press("home", "c")  # fold main: everything to its return
        await settle(pilot)
        assert [browser.line_at(r) for r in range(browser.row_count)] == [0, 18, 19]
        await pilot.press("c")
        await settle(pilot)
        assert browser.row_count == 20


async def test_cut_point_is_marked(ex2: Path) -> None:
    app = BrowserApp(ex2)
    async with app.run_test(size=SIZE) as pilot:
        browser = app.query_one(TraceBrowser)
        browser.set_index(browser.index, CutPoint(5, "cut: max_frames after frame 5, 9 frames dropped"))
        await pilot.pause()
        assert screen_text(app).splitlines()[5].startswith("✂ line ")


async def test_long_lines_scroll_sideways_and_stay_raw(ex2: Path) -> None:
    app = BrowserApp(ex2)
    async with app.run_test(size=SIZE) as pilot:
        browser = app.query_one(TraceBrowser)
        await pilot.press("R", "down", "down", "down", "right", "right")  # R: the raw text
        await pilot.pause()
        assert browser.scroll_offset.x == 16
        row = screen_text(app).splitlines()[3]
        assert row[2:].rstrip() == raw_lines(ex2)[3][16 : 16 + 78]
        await pilot.press("y")
        assert app.yanked == [raw_lines(ex2)[3]]


def test_snapshot_of_ex2(ex2: Path, snap_compare) -> None:
    async def run_before(pilot) -> None:
        await pilot.press("E", "up", "space", "down", "space")

    assert snap_compare(BrowserApp(ex2), terminal_size=SIZE, run_before=run_before)


async def test_jump_to_a_line_given_by_its_text(ex2: Path) -> None:
    app = BrowserApp(ex2)
    async with app.run_test(size=SIZE) as pilot:
        browser = app.query_one(TraceBrowser)
        lines = raw_lines(ex2)
        assert browser.jump_to_line_text(lines[13])  # a line that is also a prefix of none other
        assert browser.cursor_line == 13
        assert not browser.jump_to_line_text(lines[13] + " edited")
        assert browser.cursor_line == 13
        await pilot.pause()
