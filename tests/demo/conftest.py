"""The demo, built once per test session (a plain ``build_demo`` call, so it can move to tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from workspace.demo import DemoPaths, build_demo


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoPaths:
    return build_demo(tmp_path_factory.mktemp("demo"))
