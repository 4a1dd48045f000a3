"""Fixtures for the runner-analysis tests: real script runs, recorded-output fixtures, a data folder."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from runner.backends import BubblewrapBackend
from workspace.config import DEFAULT_GRADE_COMMAND, GradeSettings, RunSettings

FIXTURES = Path(__file__).parent / "fixtures"
COMPETITION = "tiny-competition"


@dataclass
class ScriptRun:
    """A script run as ``python runfile.py`` in its own folder: what a plain run prints."""

    code: str
    folder: Path
    returncode: int
    output: str


@pytest.fixture
def run_script(tmp_path: Path) -> Callable[[str], ScriptRun]:
    """Run ``code`` as runfile.py with this Python, stdout and stderr merged, like a terminal shows it."""
    counter = iter(range(1_000_000))

    def run(code: str, timeout: float = 20.0) -> ScriptRun:
        folder = tmp_path / f"script-{next(counter)}"
        folder.mkdir()
        (folder / "runfile.py").write_text(code)
        done = subprocess.run(
            [sys.executable, "runfile.py"],
            cwd=folder,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
        )
        return ScriptRun(code, folder, done.returncode, done.stdout)

    return run


@pytest.fixture
def recorded() -> Callable[..., tuple[str, str]]:
    """``recorded(name, strip_each=None)``: (code, term_out) of a fixture made by fixtures/make_fixtures.py.

    term_out is joined with "" as the dataset does; ``strip_each`` cleans each
    part first, as aira-dojo's ``strip_ansi`` option does.
    """

    def load(name: str, strip_each: Callable[[str], str] | None = None) -> tuple[str, str]:
        data = json.loads((FIXTURES / name).read_text())
        parts = data["term_out"] if strip_each is None else [strip_each(part) for part in data["term_out"]]
        return data["code"], "".join(parts)

    return load


@pytest.fixture
def data_root(tmp_path: Path) -> Path:
    public = tmp_path / "mle-bench" / COMPETITION / "prepared" / "public"
    public.mkdir(parents=True)
    (public / "train.csv").write_text("id,target\n1,0\n2,1\n")
    return tmp_path / "mle-bench"


@pytest.fixture
def sandbox_backend() -> str:
    """bubblewrap, the real sandbox, where it works (CI installs it); else the local backend."""
    return "bubblewrap" if BubblewrapBackend().check(RunSettings()) is None else "local"


# Behaves like aira-dojo's src/dojo/grade_code.py: runs the code, then writes one
# indented JSON object to the given path. The competition id picks a failure to act out.
GRADE_STAND_IN = """
import json, os, subprocess, sys, tempfile, time
from pathlib import Path

code_path, task, out_path = sys.argv[1], sys.argv[2], Path(sys.argv[3])
print(f"Grading {code_path} for task {task}...")
if task == "silent":
    sys.exit(2)
if task == "slow":
    Path(out_path.parent / "slow.pid").write_text(str(os.getpid()))
    time.sleep(60)
out_path.parent.mkdir(parents=True, exist_ok=True)
if task == "garbled":
    out_path.write_text('{"success": tru')
    sys.exit(0)
if task == "unknown-competition":
    result = {"error": f"Task '{task}' not found", "success": False}
else:
    work = tempfile.mkdtemp()
    start = time.time()
    done = subprocess.run([sys.executable, os.path.abspath(code_path)], cwd=work, capture_output=True, text=True)
    valid = os.path.exists(os.path.join(work, "submission.csv"))
    result = {
        "success": done.returncode == 0, "exit_code": done.returncode, "timed_out": False,
        "exec_time": time.time() - start, "valid_solution": valid, "validation_fitness": None,
        "test_fitness": 0.75 if valid else None, "error_output": done.stderr.splitlines(True),
        "stdout": done.stdout.splitlines(True),
    }
    if valid:
        result["grading_report"] = {"competition_id": task, "score": 0.75, "valid_submission": True}
with open(out_path, "w") as f:
    json.dump(result, f, indent=2)
print(f"Full results saved to {out_path}")
"""


@pytest.fixture
def grade_checkout(tmp_path: Path) -> Path:
    """A stand-in of the client's aira-dojo checkout with ``src/dojo/grade_code.py``."""
    folder = tmp_path / "aira dojo"  # a space, to prove the quoting
    (folder / "src" / "dojo").mkdir(parents=True)
    (folder / "src" / "dojo" / "grade_code.py").write_text(GRADE_STAND_IN)
    return folder


@pytest.fixture
def grade_settings(grade_checkout: Path) -> GradeSettings:
    """The default grade command, with this interpreter as "python" (the client's container has its own)."""
    return GradeSettings(command=DEFAULT_GRADE_COMMAND.replace("python", sys.executable, 1), checkout=grade_checkout)
