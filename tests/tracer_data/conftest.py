"""Fixtures for the trace-as-data tests: writable copies of the golden traces."""

from __future__ import annotations

from pathlib import Path

import pytest

GOLDEN_DIR = Path(__file__).resolve().parents[3] / "shared" / "spec" / "trace_examples"


@pytest.fixture
def golden(tmp_path: Path):
    """``golden("ex2")`` copies ex2.trace into tmp_path with its code beside it and returns the trace path."""

    def copy(name: str, with_code: bool = True) -> Path:
        trace = tmp_path / f"{name}.trace"
        trace.write_bytes((GOLDEN_DIR / f"{name}.trace").read_bytes())
        if with_code:
            Path(str(trace) + ".code.py").write_bytes((GOLDEN_DIR / f"{name}.py").read_bytes())
        return trace

    return copy


@pytest.fixture(scope="session")
def demo_paths(tmp_path_factory: pytest.TempPathFactory):
    """The bundled demo, built once for this folder's tests (its rows ran in the sandbox)."""
    from workspace.demo import build_demo

    return build_demo(tmp_path_factory.mktemp("tracer-data-demo"))
