"""The metadata pane: the recorded error linked to the code, and the competition's description."""

from __future__ import annotations

from pathlib import Path

from tui_helpers import SMALL, open_task, screen_text, wait_until

from workspace.config import Config, UISettings


async def test_failing_line_link_and_description(make_app, tmp_path: Path) -> None:
    checkout = tmp_path / "mle-bench"
    description = checkout / "mlebench" / "competitions" / "spaceship-titanic" / "description.md"
    description.parent.mkdir(parents=True)
    description.write_text("# Spaceship Titanic\n\nPredict which passengers were transported.\n")

    app = make_app(cfg=Config(ui=UISettings(mlebench_checkout=checkout)))
    async with app.run_test(size=SMALL) as pilot:
        task = await open_task(app, pilot)
        text = screen_text(app)
        assert "error: FileNotFoundError: [Errno 2] No such file or directory:" in text
        assert "at line 2 (l: go there)" in text
        task.query_one("#metadata-scroll").scroll_end(animate=False)
        await wait_until(
            pilot,
            lambda: "Predict which passengers were transported." in screen_text(app),
            what="description shown",
        )
        await pilot.press("l")
        assert task.pane == "code"
        assert app.focused is task.code_pane  # the pane has the keys; enter puts the cursor on the line
        assert task.code_pane.editor.cursor_location == (1, 0)
        await pilot.press("enter")
        assert app.focused is task.code_pane.editor
        assert task.code_pane.editor.cursor_location == (1, 0)
