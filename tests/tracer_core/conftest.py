"""Run the built-in tracer and plain Python on small scripts, in real subprocesses."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

TRACER = Path(__file__).resolve().parents[2] / "tracer_adapter" / "cwm_tracer.py"


@dataclass
class Traced:
    process: subprocess.CompletedProcess
    trace: str
    meta: dict

    @property
    def lines(self) -> list[str]:
        return self.trace.split("\n")


def write_script(folder: Path, source: str, name: str = "runfile.py") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(source).lstrip("\n"))
    return path


def run_plain(script: Path, python: str = sys.executable, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([python, script.name], cwd=script.parent, capture_output=True, text=True, timeout=timeout)


def run_traced(script: Path, *options: str, python: str = sys.executable, timeout: float = 60) -> Traced:
    out, meta = script.parent / "trace.txt", script.parent / "trace.meta.json"
    process = subprocess.run(
        [python, str(TRACER), script.name, "--out", str(out), "--meta", str(meta), *options],
        cwd=script.parent,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    trace = out.read_text(encoding="utf-8") if out.exists() else ""
    return Traced(process, trace, json.loads(meta.read_text()) if meta.exists() else {})


@pytest.fixture
def tracer_path() -> Path:
    return TRACER


@pytest.fixture
def traced() -> Callable[..., Traced]:
    """``traced(script, *options, python=...)``: run the tracer on ``script``."""
    return run_traced


@pytest.fixture
def plain() -> Callable[..., subprocess.CompletedProcess]:
    """``plain(script, python=...)``: run ``script`` with plain Python in its folder."""
    return run_plain


@pytest.fixture
def script(tmp_path: Path) -> Callable[..., Path]:
    """``script(source)`` writes ``runfile.py`` (dedented) in a fresh folder and returns its path."""

    def make(source: str, name: str = "runfile.py") -> Path:
        return write_script(tmp_path, source, name)

    return make
