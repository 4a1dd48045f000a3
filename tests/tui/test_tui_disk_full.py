"""Disk full while typing: the app keeps running, the text stays unsaved and shown, a banner says so, and the
text is saved once space is back."""

from __future__ import annotations

from tui_helpers import SMALL, notified, open_task, wait_until

from workspace.store import open_workspace


async def test_typing_on_a_full_disk_is_kept_and_saved_when_space_is_back(make_app, make_dataset, small_tmpfs) -> None:
    ws = open_workspace(make_dataset([{}]), small_tmpfs.path / "ws")

    try:
        app = make_app(ws)
        async with app.run_test(size=SMALL) as pilot:
            task = await open_task(app, pilot)
            small_tmpfs.fill()
            await pilot.press("5", "enter", *"typed on a full disk")
            await wait_until(pilot, lambda: notified(app, "NOT SAVED, retrying"), timeout=5.0, what="banner")
            assert app.is_running
            assert task.query_one("#revised_analysis").text == "typed on a full disk"
            small_tmpfs.free()
            await wait_until(
                pilot,
                lambda: ws.step("row-0").revised_analysis == "typed on a full disk",
                timeout=10.0,
                what="the retry saves it",
            )
            await wait_until(pilot, lambda: notified(app, "Saved again"), timeout=5.0, what="all-clear")
    finally:
        small_tmpfs.free()
        ws.close()
