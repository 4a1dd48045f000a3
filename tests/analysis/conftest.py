"""Fixtures for the trace-to-analysis tests: the demo's crashing rows traced once, the goldens as stored traces."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from analysis_rows import CRASHING, TWO_STEPS

from runner import bookkeeping
from tracer_adapter.adapter import trace_step
from workspace.config import load_config
from workspace.store import open_workspace

TRACE_EXAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "trace_examples"  # the client's goldens


@dataclass
class TracedDemo:
    dataset: Path
    workspace: Path


@pytest.fixture(scope="session")
def traced_demo(demo, tmp_path_factory: pytest.TempPathFactory) -> TracedDemo:
    """A workspace on the demo where every crashing row's step 0 is traced, and leaf-two-bugs' fix (run) too."""
    folder = tmp_path_factory.mktemp("traced")
    # a traced training loop can outlast the demo's short time limit and the tracing cap on a busy machine
    config = load_config(demo.dataset).with_overrides(
        run={"backend": "bubblewrap", "time_limit": 300}, trace={"max_seconds": 0}
    )
    with open_workspace(demo.dataset, folder / "ws") as ws:
        for row in CRASHING:
            trace_step(ws, config, row.id, 0)
        fix = TWO_STEPS.fixed_code(1)
        bookkeeping.run_and_record(ws, TWO_STEPS.id, 0, bookkeeping.FIX, config.run, fix)  # saves and verifies it
        trace_step(ws, config, TWO_STEPS.id, 0, code=TWO_STEPS.fixed_code(1))
        step1 = ws.new_step(TWO_STEPS.id)
        trace_step(ws, config, TWO_STEPS.id, step1.index)
    return TracedDemo(demo.dataset, folder / "ws")


@pytest.fixture
def golden_trace(tmp_path: Path):
    """``golden_trace("ex2")``: ex2.trace copied into tmp_path with its code beside it (for line numbers)."""

    def copy(name: str) -> Path:
        trace = tmp_path / f"{name}.trace"
        trace.write_bytes((TRACE_EXAMPLES / f"{name}.trace").read_bytes())
        Path(str(trace) + ".code.py").write_bytes((TRACE_EXAMPLES / f"{name}.py").read_bytes())
        return trace

    return copy
