"""Only ``tui`` may import Textual: the data layer, runner and tracer work headless."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEADLESS = ["workspace", "runner", "tracer_adapter", "demo"]


SANDBOX_ONLY = ("demo.aide_driver", "demo.scripts")  # run inside the sandbox beside what they import, not here


def _modules(package: str) -> list[str]:
    found = pkgutil.walk_packages([str(ROOT / package)], prefix=f"{package}.")
    return [m.name for m in found if not m.name.startswith(SANDBOX_ONLY)]


def _loaded_after_importing(package: str, tops: tuple[str, ...]) -> str:
    """Import every module of ``package`` in a fresh interpreter; the loaded modules under ``tops``, printed."""
    modules = [package, *_modules(package)]
    probe = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {tops!r}))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


@pytest.mark.parametrize("package", HEADLESS)
def test_headless_packages_do_not_import_textual(package: str) -> None:
    assert _loaded_after_importing(package, ("textual",)) == "[]"


def test_cli_help_does_not_import_textual() -> None:
    probe = (
        "import sys\nfrom tui.cli import build_parser\nbuild_parser().format_help()\nprint('textual' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_the_workspace_imports_nothing_above_it() -> None:
    """Issue 11 item 2: the data layer calls no runner or tracer code (the quote check is passed in)."""
    assert _loaded_after_importing("workspace", ("runner", "tracer_adapter", "tui", "demo")) == "[]"
