"""Fixtures of the workspace tests: open workspaces, run records, child processes."""

from __future__ import annotations

import queue
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from workspace.run_rules import code_sha256
from workspace.store import Workspace, open_workspace

ROOT = Path(__file__).resolve().parents[2]
TRACE_EXAMPLE = ROOT / "tests" / "fixtures" / "trace_examples" / "ex1.trace"  # the client's golden


def _run_record(
    kind: str = "clean",
    output: str = "",
    run_dir: Path | None = None,
    code: str | None = None,
    match: str | None = None,
    duration: float | None = None,
) -> dict:
    """A run record in the shape the runner's bookkeeping stores; ``code`` is the code the run started.
    A time_limit run lasts the contract's 6 minutes unless ``duration`` says otherwise."""
    return {
        "code_sha256": None if code is None else code_sha256(code),
        "spec_backend": "local",
        "command": ["python", "runfile.py"],
        "run_dir": str(run_dir or "/nonexistent"),
        "log_path": str(run_dir or "/nonexistent") + "/output.log",
        "started_at": 1.0,
        "duration": duration if duration is not None else 360.2 if kind == "time_limit" else 0.5,
        "exit_code": 0 if kind == "clean" else 1,
        "signal": None,
        "timed_out": False,
        "cancelled": False,
        "submission_written": kind == "clean",
        "output_tail": output,
        "verdict": {
            "kind": kind,
            "detail": f"{kind} run",
            "error": None,
            "match": match or ("same" if kind == "error" else None),
        },
    }


@pytest.fixture
def run_record() -> Callable[..., dict]:
    """``run_record(kind, output=..., run_dir=..., code=..., match=..., duration=...)``: a stored run record."""
    return _run_record


@pytest.fixture
def quotable_trace() -> Callable[..., str]:
    """``quotable_trace(ws, row_id="row-0", k=0)``: step k's bug replicated (for step 0, a run of its code
    ending in the recorded error; a later step is confirmed by the run that started it) and traced (the
    client's example trace, stored as a trace of the step's code); returns a line of it to quote."""

    def make(ws: Workspace, row_id: str = "row-0", k: int = 0) -> str:
        step = ws.step(row_id, k)
        if k == 0:
            ws.add_run(row_id, 0, "replicate", _run_record("error", code=step.code))
        trace = ws.trace_dir(row_id, k) / f"example{len(ws.traces(row_id, k))}.trace"
        shutil.copy(TRACE_EXAMPLE, trace)
        ws.add_trace(
            row_id,
            k,
            code_sha256=code_sha256(step.code),
            trace_path=trace,
            meta_path=trace.with_suffix(".json"),
            index_path=Path(f"{trace}.idx"),
            meta={},
        )
        return TRACE_EXAMPLE.read_text(encoding="utf-8").split("\n")[3]

    return make


@pytest.fixture
def open_ws(make_dataset) -> Iterator[Callable[..., Workspace]]:
    """``open_ws(rows)`` writes a dataset with those rows and opens its workspace; all are closed at the end."""
    opened: list[Workspace] = []

    def make(rows: list[dict] | None = None, **kwargs) -> Workspace:
        ws = open_workspace(make_dataset(rows if rows is not None else [{}, {}, {}]), **kwargs)
        opened.append(ws)
        return ws

    yield make
    for ws in opened:
        ws.close()


class Child:
    """A Python child process running ``code`` (sys.argv[1:] = args) whose stdout lines are collected."""

    def __init__(self, code: str, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code, *args],
            cwd=ROOT,
            text=True,
            bufsize=1,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._collect, daemon=True).start()

    def _collect(self) -> None:
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def read_line(self, deadline: float = 20.0) -> str:
        """The next line printed; fails the test if the child exits first or stays silent until the deadline."""
        try:
            line = self.lines.get(timeout=deadline)
        except queue.Empty:
            raise AssertionError("child printed nothing before the deadline") from None
        if line is None:
            raise AssertionError(f"child exited ({self.proc.wait()}): {self.proc.stderr.read()}")
        return line

    def remaining_lines(self) -> list[str]:
        """Every line still to come, once the child has ended."""
        self.proc.wait(timeout=20)
        out = []
        while (line := self.lines.get(timeout=20)) is not None:
            out.append(line)
        return out

    def send(self, text: str) -> None:
        self.proc.stdin.write(text + "\n")
        self.proc.stdin.flush()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=20)


@pytest.fixture
def child() -> Iterator[Callable[..., Child]]:
    """``child(code, *args)`` starts a Child; every one still running is killed at the end."""
    started: list[Child] = []

    def start(code: str, *args: str) -> Child:
        started.append(Child(code, *args))
        return started[-1]

    yield start
    for c in started:
        c.stop()
