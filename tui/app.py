"""NodefixApp: the queue and the task view over one workspace."""

from __future__ import annotations

import time
from collections import deque
from typing import ClassVar

from textual import events
from textual.app import App
from textual.binding import BindingType
from textual.theme import Theme

from themes import THEMES_DIR, available_themes
from tui.bindings import APP_BINDINGS, binding_ids
from tui.keys import key_for
from tui.screens.help import help_for
from tui.screens.palette import ActionsProvider
from tui.screens.queue import QueueScreen
from tui.screens.task import UI_STATE_KEY, TaskScreen
from tui.typing_order import handle_key_in_order
from workspace.config import Config
from workspace.errors import InputError
from workspace.store import Workspace

# Textual colour themes matching themes/*.tcss, so built-in widgets follow the same palette.
COLOUR_THEMES = {
    "dark": Theme(
        name="nodefix-dark",
        primary="#5f87d7",
        secondary="#87afaf",
        accent="#ffaf00",
        foreground="#d0d0d0",
        background="#1c1c1c",
        surface="#262626",
        panel="#303030",
        success="#5faf5f",
        warning="#d7af00",
        error="#ff5f5f",
        dark=True,
    ),
    "light": Theme(
        name="nodefix-light",
        primary="#005faf",
        secondary="#5f8787",
        accent="#af5f00",
        foreground="#1c1c1c",
        background="#ffffff",
        surface="#eeeeee",
        panel="#dadada",
        success="#008700",
        warning="#af8700",
        error="#d70000",
        dark=False,
    ),
    "high-contrast": Theme(
        name="nodefix-high-contrast",
        primary="#ffff00",
        secondary="#00ffff",
        accent="#ffff00",
        foreground="#ffffff",
        background="#000000",
        surface="#000000",
        panel="#000000",
        success="#00ff00",
        warning="#ffff00",
        error="#ff0000",
        dark=True,
    ),
}
MESSAGE_LOG = 200
QUIT_AGAIN_SECONDS = 5.0
THEME_STATE_KEY = "theme"  # the theme last picked in the palette
EDITOR_THEMES = {"dark": "vscode_dark", "light": "github_light", "high-contrast": "monokai"}


def checked_theme(name: str) -> str:
    if name not in available_themes() or name not in COLOUR_THEMES:
        raise InputError(f"ui.theme / --theme: unknown theme {name!r} (one of: {', '.join(sorted(COLOUR_THEMES))})")
    return name


def checked_keymap(keys: dict[str, str]) -> dict[str, str]:
    known = binding_ids()
    for binding_id, key in keys.items():
        if binding_id not in known:
            raise InputError(f"[ui.keys]: unknown binding id {binding_id!r} (F1 in the app lists them)")
        if not key.strip():
            raise InputError(f"[ui.keys]: binding {binding_id!r} has no key")
    return keys


class NodefixApp(App):
    TITLE = "nodefix"
    BINDINGS: ClassVar[list[BindingType]] = list(APP_BINDINGS)
    COMMANDS = App.COMMANDS | {ActionsProvider}

    def __init__(
        self, workspace: Workspace, config: Config, *, theme: str | None = None, cursor_blink: bool = True
    ) -> None:
        self.theme_name = checked_theme(theme or config.ui.theme)
        keymap = checked_keymap(config.ui.keys)
        super().__init__(css_path=THEMES_DIR / f"{self.theme_name}.tcss")
        self.ws = workspace
        self.config = config
        self.cursor_blink = cursor_blink
        self.editor_theme = EDITOR_THEMES[self.theme_name]
        for colours in COLOUR_THEMES.values():
            self.register_theme(colours)
        self.theme = COLOUR_THEMES[self.theme_name].name
        chosen = (workspace.ui_state(THEME_STATE_KEY) or {}).get("name")
        if theme is None and chosen in self.available_themes:  # the palette's last choice, unless --theme says
            self.theme = chosen
        self.set_keymap(keymap)
        self.queue = QueueScreen(workspace)
        self.messages: deque[str] = deque(maxlen=MESSAGE_LOG)  # every notification shown, newest last
        self._quit_asked = float("-inf")  # when quit last asked to be pressed again (a run was going)

    def notify(self, message: str, **kwargs) -> None:
        self.messages.append(message)
        super().notify(message, **kwargs)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key) and await handle_key_in_order(self, event):
            return
        await super().on_event(event)

    def on_mount(self) -> None:
        self.theme_changed_signal.subscribe(self, self._keep_theme)
        self.push_screen(self.queue)
        self.title = f"nodefix · {self.ws.dataset.path.name}"
        last = self.ws.ui_state(UI_STATE_KEY)
        if last and last.get("row") in self.ws.dataset:
            self.queue.select(last["row"])
            if last.get("in_row", True):  # quit from the task view: that row again; from the queue: the queue
                self.open_row(last["row"])

    def _keep_theme(self, theme: Theme) -> None:
        self.ws.set_ui_state(THEME_STATE_KEY, {"name": theme.name})

    def open_row(self, row_id: str) -> None:
        """Open ``row_id``: the row last left comes back on its pane, step and cursors; another on its metadata."""
        last = self.ws.ui_state(UI_STATE_KEY) or {}
        if last.get("row") != row_id:
            last = {}
        self.push_screen(
            TaskScreen(
                self.ws,
                self.config,
                row_id,
                pane=last.get("pane", "metadata"),
                step=last.get("step"),
                cursors=last.get("cursors"),
            )
        )

    @property
    def task_screen(self) -> TaskScreen | None:
        """The open task view, if any (it may be under a modal)."""
        return next((s for s in reversed(self.screen_stack) if isinstance(s, TaskScreen)), None)

    def action_help(self) -> None:
        self.push_screen(help_for(self.screen))

    async def action_quit(self) -> None:
        task = self.task_screen
        if task is not None and task.output_pane.running and time.monotonic() - self._quit_asked > QUIT_AGAIN_SECONDS:
            self._quit_asked = time.monotonic()
            self.notify(
                f"A run is going: {key_for(task, 'app.quit')} again within {QUIT_AGAIN_SECONDS:.0f} s "
                "cancels it and quits",
                severity="warning",
                timeout=QUIT_AGAIN_SECONDS,
            )
            return
        if task is not None:
            task.leave_row()
        self.exit()
