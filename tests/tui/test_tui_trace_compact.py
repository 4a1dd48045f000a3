"""The compact trace view: tag, line number and source first, the value on the row, the frame in full on Enter."""

from __future__ import annotations

from pathlib import Path

from test_tui_trace_browser import EXAMPLES, SIZE, BrowserApp, ex2, screen_text  # noqa: F401 (ex2 is a fixture)

from tui.screens.frame import FrameScreen
from tui.widgets.trace_browser import TraceBrowser

CODE = (EXAMPLES / "ex2.py").read_text(encoding="utf-8")


async def test_rows_read_source_first_with_the_value_on_the_row(ex2: Path) -> None:  # noqa: F811
    app = BrowserApp(ex2, code=CODE)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        rows = screen_text(app).splitlines()
        assert rows[0].startswith("  call    8  def main(): # << START_OF_TRACE")
        assert rows[3].startswith("  line    2  new_d = {}   d={1: 2, 2: 4, 3: 3}  k=3")
        assert rows[15].startswith("  exc     6  new_d[key] += 1  → (<class 'KeyError'>, KeyError(3)")
        assert rows[16].startswith("  ret     6  new_d[key] += 1  → None")
        assert all("<|" not in row for row in rows)


async def test_enter_opens_the_frame_one_variable_per_line(ex2: Path) -> None:  # noqa: F811
    app = BrowserApp(ex2, code=CODE)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("E", "up", "enter")  # the line event before the exception
        await pilot.pause()
        assert isinstance(app.screen, FrameScreen)
        shown = app.screen.query_one("#frame-detail").query_one("Static").render()
        lines = str(shown).splitlines()
        assert lines[0] == "event: line · frame 14 · line 6 · depth 1"
        assert "source: new_d[key] += 1" in lines
        assert "new_d: {1: 3, 2: 5}" in lines
        assert "key: 3" in lines
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, FrameScreen)


async def test_marking_in_the_compact_view_copies_the_raw_bytes(ex2: Path) -> None:  # noqa: F811
    app = BrowserApp(ex2, code=CODE)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("E", "space", "space", "i")  # the exception and the return carrying its value
        await pilot.pause()
        raw = ex2.read_bytes().split(b"\n")
        assert [line.encode("utf-8") for line in app.inserted[0]] == [raw[15], raw[16]]


async def test_r_shows_the_raw_text_and_back(ex2: Path) -> None:  # noqa: F811
    app = BrowserApp(ex2, code=CODE)
    async with app.run_test(size=SIZE) as pilot:
        browser = app.query_one(TraceBrowser)
        await pilot.press("R")
        await pilot.pause()
        assert screen_text(app).splitlines()[0].startswith("  <|frame_sep|><|call_sep|>{}<|action_sep|>def main")
        assert browser.raw
        await pilot.press("R")
        await pilot.pause()
        assert screen_text(app).splitlines()[0].startswith("  call ")
