"""Fixtures for the trace-as-data tests: writable copies of the golden traces."""

from __future__ import annotations

from pathlib import Path

import pytest

TRACE_EXAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "trace_examples"  # the client's goldens


@pytest.fixture
def golden(tmp_path: Path):
    """``golden("ex2")`` copies ex2.trace into tmp_path with its code beside it and returns the trace path."""

    def copy(name: str, with_code: bool = True) -> Path:
        trace = tmp_path / f"{name}.trace"
        trace.write_bytes((TRACE_EXAMPLES / f"{name}.trace").read_bytes())
        if with_code:
            Path(str(trace) + ".code.py").write_bytes((TRACE_EXAMPLES / f"{name}.py").read_bytes())
        return trace

    return copy
