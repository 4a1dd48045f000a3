"""F1 / ? help for the focused pane, the command palette, zoom and the wide layout."""

from __future__ import annotations

from tui_helpers import SMALL, WIDE, open_task, screen_text, wait_until

from tui.screens.help import HelpScreen
from tui.screens.reject import RejectScreen
from tui.screens.task import TaskScreen


async def test_help_follows_the_focused_pane(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        assert "The queue lists every row" in screen_text(app)
        await pilot.press("escape", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, TaskScreen))
        await pilot.press("2", "f1")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        text = screen_text(app)
        assert "help: code pane" in text
        assert "$EDITOR" in text
        assert "row: reject" in text
        assert "Reject" in text
        await pilot.press("escape", "5", "enter", "f1")  # F1 works inside a text field too
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        assert "help: annotation pane" in screen_text(app)


async def test_palette_offers_actions_by_name(make_app, workspace) -> None:
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        task = await open_task(app, pilot)
        await pilot.press("ctrl+p")
        await pilot.press(*"run: fix")
        await wait_until(pilot, lambda: "run: fix" in screen_text(app), what="palette hit")
        await pilot.press("escape")
        await pilot.press("ctrl+p", *"row: reject")
        await wait_until(pilot, lambda: "row: reject" in screen_text(app), what="palette hit")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, RejectScreen), what="reject prompt")
        await pilot.press("c")
        await wait_until(pilot, lambda: workspace.status("row-0")[:2] == ("rejected", "no_code"))
        assert task.row_id == "row-1"


async def test_wide_layout_zoom_and_pane_keys(make_app) -> None:
    app = make_app()
    async with app.run_test(size=WIDE) as pilot:
        task = await open_task(app, pilot)

        def shown():
            return {
                name for name in ("metadata", "code", "output", "trace", "annotation") if task.pane_widget(name).display
            }

        assert shown() == {"metadata", "output", "annotation"}
        await pilot.press("2")
        assert shown() == {"code", "output", "annotation"}
        await pilot.press("z")
        assert shown() == {"code"}
        await pilot.press("escape")  # unzoom first, not back to the queue
        assert shown() == {"code", "output", "annotation"}
        assert app.screen is task
        await pilot.press("f3", "f3")
        assert task.pane == "trace"
        assert shown() == {"trace", "output", "annotation"}
        await pilot.resize_terminal(*SMALL)
        await wait_until(pilot, lambda: shown() == {"trace"}, what="one pane at 80 columns")
        await pilot.press("f2")
        assert task.pane == "output"
        assert shown() == {"output"}


async def test_the_theme_picked_in_the_palette_is_kept(make_app, workspace) -> None:
    app = make_app(theme=None)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        app.theme = "nodefix-high-contrast"  # what the palette's theme command sets
        await wait_until(pilot, lambda: (workspace.ui_state("theme") or {}).get("name") == "nodefix-high-contrast")
    again = make_app(theme=None)
    async with again.run_test(size=SMALL) as pilot:
        await pilot.pause()
        assert again.theme == "nodefix-high-contrast"


async def test_help_and_hints_name_the_remapped_keys(make_app) -> None:
    from workspace.config import Config, UISettings

    app = make_app(cfg=Config(ui=UISettings(keys={"row.bug_confirmed": "B"})))
    async with app.run_test(size=SMALL) as pilot:
        await open_task(app, pilot)
        await pilot.press("5")
        await wait_until(pilot, lambda: "bug confirmed: no (B) · fixable" in screen_text(app), what="the flags")
        await pilot.press("f1")
        help_screen = await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen) and app.screen)
        assert "B toggles bug_confirmed" in help_screen.about
