"""The demo rows that fail, traced in bubblewrap: the traced run raises what the plain run raises."""

from __future__ import annotations

from pathlib import Path

import pytest

from demo.catalogue import ROWS
from tracer_adapter.adapter import trace_step
from tracer_adapter.trace_index import TraceIndex
from workspace.config import load_config
from workspace.store import open_workspace

FAILING = [row for row in ROWS if row.rerun_verdict == "error"]


@pytest.mark.parametrize("row", FAILING, ids=[row.name for row in FAILING])
def test_traced_demo_row_raises_as_its_plain_run(row, demo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.chdir(tmp_path)
    config = load_config(demo.dataset).with_overrides(run={"backend": "bubblewrap"})
    with open_workspace(demo.dataset, tmp_path / "ws") as ws:
        record = trace_step(ws, config, row.id, 0)
    verdict = record.meta.run_verdict
    assert verdict.kind == "error"
    assert verdict.error.exc_type.split(".")[-1] == row.rerun_exception.split(".")[-1]
    assert verdict.match == ("same" if row.recorded_exception == row.rerun_exception else "different")
    with TraceIndex.open(Path(record.trace_path)) as index:
        if row.rerun_exception == "SyntaxError":
            assert index.frame_count == 0  # nothing runs, so nothing is traced
        else:
            exception = index.first_exception()
            assert exception is not None
            assert index.info(exception).source_lineno is not None
            assert record.meta.tracer_meta["exception"].startswith(row.rerun_exception.split(".")[-1])
