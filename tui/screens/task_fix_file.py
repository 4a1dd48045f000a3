"""The task view's fix as a file in the workspace, for $EDITOR and any other program: what they save is taken back.

The file holds what the code editor last saved (tui/widgets/fix_file.py
watches it); when another program writes it, the text replaces the
editor's, and autosave saves it from there.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from textual.app import SuspendNotSupported
from textual.message import Message

from tui.widgets.fix_file import FixFile
from workspace.locate import safe_name

if TYPE_CHECKING:
    from tui.screens.task import TaskScreen


class FixFileChanged(Message):
    """The fix's file was written by another program."""


class FixFileSync:
    def __init__(self, screen: TaskScreen) -> None:
        self.screen = screen
        self._file: FixFile | None = None  # the open step's, while a row is open

    def open(self, text: str) -> Path:
        """The file of the step on screen, holding ``text`` (edits from elsewhere are watched unless read-only)."""
        screen = self.screen
        self.close()
        path = screen.ws.path / "edits" / f"{safe_name(screen.row_id)}.step{screen.k}.py"
        self._file = FixFile(path, text, None if screen.read_only else self._written_elsewhere)
        return self._file.path

    def _written_elsewhere(self) -> None:
        # On the watchdog thread: post_message is thread-safe and does not wait, so that thread never blocks on the UI.
        self.screen.post_message(FixFileChanged())

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def write(self, text: str) -> None:
        if self._file is not None:
            self._file.write(text)

    def take(self) -> None:
        """Into the code editor: what another program wrote to the file, if anything new."""
        screen = self.screen
        if self._file is None or screen.read_only:
            return
        text = self._file.new_text(screen.code_pane.editor.text)
        if text is not None:
            screen.code_pane.replace_text(text)
            screen.notify("Took the fix from the edited file", timeout=2)

    def external_editor(self) -> None:
        """Edit the fix in $VISUAL / $EDITOR (vi if neither is set), the app suspended meanwhile."""
        screen = self.screen
        if not screen.saved_and_writable():
            return
        assert self._file is not None
        self._file.write(screen.code_pane.editor.text)
        command = [*shlex.split(os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"), str(self._file.path)]
        try:
            with screen.app.suspend():
                subprocess.run(command, check=False)
        except SuspendNotSupported:
            subprocess.run(command, check=False, stdin=subprocess.DEVNULL)
        except OSError as exc:
            screen.notify(f"Could not start {command[0]}: {exc.strerror}", severity="error")
            return
        self.take()
        screen.show_pane("code")
