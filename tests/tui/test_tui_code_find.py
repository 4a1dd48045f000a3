"""The code editor: ctrl+f finds (typing replaces the match, F8 finds the next), ctrl+g goes to a line."""

from __future__ import annotations

from tui_helpers import SMALL, notified, open_task, wait_until

from workspace.store import open_workspace

CODE = 'a = read("./input/train.csv")\nb = read("./input/test.csv")\nprint(a, b)\n'


async def test_find_replace_by_typing_and_go_to_line(make_app, make_dataset, tmp_path) -> None:
    ws = open_workspace(make_dataset([{"code": CODE}], name="find.parquet"), tmp_path / "find-ws")

    try:
        app = make_app(ws=ws)
        async with app.run_test(size=SMALL) as pilot:
            task = await open_task(app, pilot)
            editor = task.code_pane.editor
            await pilot.press("2", "ctrl+f", *"input", "enter")
            await wait_until(pilot, lambda: app.focused is editor, what="the editor, on the match")
            assert editor.selection == ((0, 12), (0, 17)), editor.selection
            await pilot.press(*"data", "f8", *"data")
            await wait_until(pilot, lambda: editor.text == CODE.replace("input", "data"), what=editor.text)
            await wait_until(pilot, lambda: ws.step("row-0").fixed_code == editor.text, what="saved")
            await pilot.press("f8")
            assert notified(app, "'input' is not in the code")
            await pilot.press("ctrl+g", "3", "enter")
            assert editor.cursor_location == (2, 0)
            await pilot.press("ctrl+g", "9", "enter")
            assert notified(app, "No line '9': the code has lines 1 to 4")
            await pilot.press("ctrl+f", "escape")
            assert app.screen is task
            assert app.focused is editor
    finally:
        ws.close()
