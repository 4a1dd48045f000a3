"""As an ordinary user (the annotators' case) the process cap is RLIMIT_NPROC: prove it holds.

Runs nodefix's ``execute`` under ``setpriv`` as ``nobody``, with the system
Python (this interpreter's folder under /root is closed to other users).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SYSTEM_PYTHON = Path("/usr/bin/python3")

pytestmark = [
    pytest.mark.timeout(60),
    pytest.mark.skipif(
        os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root and setpriv to become another user"
    ),
    pytest.mark.skipif(
        not SYSTEM_PYTHON.exists()
        or subprocess.run(
            [str(SYSTEM_PYTHON), "-c", f"import sys; sys.exit(sys.version_info[:2] != {tuple(sys.version_info[:2])})"]
        ).returncode
        != 0,
        reason="needs a system Python of this minor version to reuse the venv's packages",
    ),
]

PROBE = """
import json, sys
sys.path[:0] = [{root!r}, {site!r}]
from pathlib import Path
from runner.execute import execute
from runner.spec import RunSpec
from workspace.config import RunSettings
verdicts = {{}}
for backend in {backends!r}:
    settings = RunSettings(backend=backend, data_root=Path({data!r}), max_processes=50, memory_limit="2G",
                           time_limit=30, python={python!r})
    result = execute(RunSpec(code={code!r}, competition_id="tiny", settings=settings,
                             run_dir=Path({work!r}) / backend))
    verdicts[backend] = [result.verdict.kind, result.output_tail]
print(json.dumps(verdicts))
"""


def _as_nobody(code: str, backends: tuple[str, ...] = ("bubblewrap", "local")) -> dict:
    """Run ``code`` through nodefix's ``execute`` as ``nobody``, per backend: {backend: [verdict kind, output]}."""
    shared = Path(tempfile.mkdtemp(prefix="nodefix-unprivileged-"))
    try:
        shared.chmod(0o755)
        (shared / "data" / "tiny" / "prepared" / "public").mkdir(parents=True)
        work = shared / "work"
        work.mkdir()
        work.chmod(0o777)
        probe = PROBE.format(
            root=str(ROOT),
            site=sysconfig.get_paths()["purelib"],
            data=str(shared / "data"),
            python=str(SYSTEM_PYTHON),
            code=code,
            work=str(work),
            backends=backends,
        )
        done = subprocess.run(
            ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", str(SYSTEM_PYTHON), "-c", probe],
            cwd=shared,
            capture_output=True,
            text=True,
            timeout=50,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(shared, ignore_errors=True)


def test_the_process_cap_holds_for_an_ordinary_user(fork_300):
    for backend, (kind, output) in _as_nobody(fork_300).items():
        assert kind == "no_submission", (backend, output)
        made = int(output.split()[1])
        assert made < 50, f"{backend}: the process cap did not hold ({made} children)"


def test_an_ordinary_users_sandbox_has_no_capability_and_no_way_back():
    from test_runner_core_sandbox_hostile import ATTACKS

    kind, output = _as_nobody(ATTACKS, ("bubblewrap",))["bubblewrap"]
    assert kind == "no_submission", output
    found = json.loads(next(line for line in output.splitlines() if line.startswith("FOUND "))[6:])
    assert found["cap_eff"] == "0000000000000000"
    assert found["shadow"] == "PermissionError"
    assert found["core_pattern"] in ("PermissionError", "OSError")
    assert found["plant_pth"] in ("PermissionError", "OSError")
    assert all(code != 0 for code in found["remount"]), found["remount"]
