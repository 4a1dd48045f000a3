"""The fix as a file: $EDITOR on it, and edits from another program picked up live."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from tui_helpers import SMALL, notified, open_task, wait_until


async def test_e_runs_the_editor_and_takes_its_result(make_app, workspace, tmp_path: Path, monkeypatch) -> None:
    editor = tmp_path / "fake-editor"
    editor.write_text("#!/bin/sh\nsed -i 's#./input/#./data/#' \"$1\"\n")
    editor.chmod(editor.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("EDITOR", str(editor))
    monkeypatch.delenv("VISUAL", raising=False)

    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        task = await open_task(app, pilot)
        await pilot.press("e")
        await wait_until(
            pilot,
            lambda: "./data/train.csv" in workspace.step("row-0").fixed_code,
            timeout=3,
            what="the editor's change saved",
        )
        assert "./data/train.csv" in task.code_pane.editor.text
        assert task.pane == "code"


async def test_edits_to_the_file_from_elsewhere_show_up_live(make_app, workspace) -> None:
    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        task = await open_task(app, pilot)
        path = workspace.path / "edits" / "row-0.step0.py"
        assert path.read_text() == workspace.source("row-0").code
        assert str(path) in task.code_pane.edit_path
        # Another tmux pane's editor saves by renaming a new file over the old one.
        temporary = path.with_name(".row-0.step0.py.swp")
        temporary.write_text("print('edited elsewhere')\n")
        os.replace(temporary, path)
        await wait_until(
            pilot,
            lambda: workspace.step("row-0").fixed_code == "print('edited elsewhere')\n",
            timeout=3,
            what="external edit saved",
        )
        assert task.code_pane.editor.text == "print('edited elsewhere')\n"
        assert notified(app, "Took the fix from the edited file")
