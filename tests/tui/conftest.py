"""Fixtures for driving the real app over a real workspace with Pilot."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from workspace.config import Config
from workspace.store import Workspace, open_workspace

ROWS = [
    {},
    {"competition_id": "nlp-getting-started", "analysis": "KeyError on the target column."},
    {"competition_id": "leaf-classification", "plan": "Use a random forest on the leaf features."},
]


@pytest.fixture
def workspace(make_dataset, tmp_path: Path):
    ws = open_workspace(make_dataset(ROWS), tmp_path / "ws")
    yield ws
    ws.close()


@pytest.fixture
def config() -> Config:
    return Config()


@pytest.fixture
def make_app(workspace: Workspace, config: Config) -> Callable:
    from tui.app import NodefixApp

    def make(ws: Workspace | None = None, cfg: Config | None = None, **kwargs):
        kwargs.setdefault("theme", "dark")
        kwargs.setdefault("cursor_blink", False)
        return NodefixApp(ws or workspace, cfg or config, **kwargs)

    return make
