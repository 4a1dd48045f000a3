"""Fixtures for runner tests: a tiny MLE-bench data folder, settings, and a run helper."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest

from runner.execute import execute
from runner.spec import RunResult, RunSpec
from workspace.config import RunSettings

COMPETITION = "tiny-competition"
MARK_VARIABLE = "NODEFIX_TEST_MARK"


@pytest.fixture
def data_root(tmp_path: Path) -> Path:
    """``<root>/<competition>/prepared/public`` with the three files MLE-bench prepares."""
    root = tmp_path / "mle-bench-data"
    public = root / COMPETITION / "prepared" / "public"
    public.mkdir(parents=True)
    (public / "train.csv").write_text("id,feature,target\n1,0.5,1\n2,0.1,0\n")
    (public / "test.csv").write_text("id,feature\n3,0.7\n")
    (public / "sample_submission.csv").write_text("id,target\n3,0\n")
    return root


@pytest.fixture
def make_settings(data_root: Path) -> Callable[..., RunSettings]:
    def make(backend: str = "bubblewrap", **changes) -> RunSettings:
        values = {
            "backend": backend,
            "data_root": data_root,
            "time_limit": 20.0,
            "memory_limit": "4G",
            "max_processes": 64,
            **changes,
        }
        return RunSettings(**values)

    return make


@dataclass
class Collected:
    """A finished run with everything the callbacks saw."""

    result: RunResult
    chunks: list[str] = field(default_factory=list)
    submissions: list[Path] = field(default_factory=list)
    mark: str = ""

    @property
    def printed(self) -> str:
        """What on_output got after nodefix's own notice lines."""
        text = "".join(self.chunks)
        lines = text.splitlines(keepends=True)
        while lines and lines[0].startswith("nodefix: "):
            lines.pop(0)
        return "".join(lines)


@pytest.fixture
def run_code(tmp_path: Path, make_settings) -> Callable[..., Collected]:
    """Run code through ``execute`` and collect what it reported; each run gets its own folder."""

    def run(
        code: str,
        backend: str = "bubblewrap",
        *,
        on_chunk: Callable[[str, Path], None] | None = None,
        cancel: threading.Event | None = None,
        on_submission: Callable[[Path], None] | None = None,
        spec_changes: dict | None = None,
        **settings_changes,
    ) -> Collected:
        mark = uuid.uuid4().hex
        run_dir = tmp_path / _run_folder_name(mark)
        changes = dict(spec_changes or {})
        env = {**changes.pop("env", {}), MARK_VARIABLE: mark}
        spec = RunSpec(
            code=code,
            competition_id=COMPETITION,
            settings=make_settings(backend, **settings_changes),
            run_dir=run_dir,
            env=env,
            **changes,
        )
        chunks: list[str] = []
        submissions: list[Path] = []

        def on_output(text: str) -> None:
            chunks.append(text)
            if on_chunk is not None:
                on_chunk("".join(chunks), spec.scratch)

        def submitted(path: Path) -> None:
            submissions.append(path)
            if on_submission is not None:
                on_submission(path)

        result = execute(spec, on_output=on_output, cancel=cancel, on_submission=submitted)
        return Collected(result, chunks, submissions, mark)

    return run


def _leftovers(mark: str) -> list[psutil.Process]:
    """Processes still running that belong to a run: its mark in their environment (the script and
    its children) or its folder on their command line (the sandbox's own processes)."""
    folder = _run_folder_name(mark)
    found = []
    for process in psutil.process_iter():
        try:
            ours = process.environ().get(MARK_VARIABLE) == mark or any(folder in arg for arg in process.cmdline())
            if ours and process.status() != psutil.STATUS_ZOMBIE:
                found.append(process)
        except psutil.Error:
            continue
    return found


def _run_folder_name(mark: str) -> str:
    return f"run-{mark[:8]}"


@pytest.fixture
def leftovers(wait_until: Callable[..., bool]) -> Callable[[str], list[psutil.Process]]:
    """``leftovers(mark)``: processes of that run still running (polls briefly for dying ones)."""

    def find(mark: str) -> list[psutil.Process]:
        wait_until(lambda: not _leftovers(mark), seconds=3.0)
        return _leftovers(mark)

    return find


FORK_300 = """
import os, time
made = 0
for _ in range(300):
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        time.sleep(2)
        os._exit(0)
    made += 1
print('made', made)
"""


@pytest.fixture
def fork_300() -> str:
    """A script that forks up to 300 sleeping children and prints how many it made: a bounded fork bomb."""
    return FORK_300
