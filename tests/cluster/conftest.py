"""The one-node Slurm cluster for the tests marked ``slurm``, started by the project's own script."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

SLURM_UP = Path(__file__).resolve().parents[2] / ".ci" / "slurm_up.sh"
COMPETITION = "tiny-competition"


@pytest.fixture(scope="session")
def slurm() -> None:
    """Slurm up on this host (idempotent), or the test skipped with the reason."""
    if shutil.which("sinfo") is None:
        pytest.skip("Slurm is not installed (as root, .ci/slurm_up.sh installs and starts it)")
    if _node_ready():
        return
    if os.geteuid() != 0:
        pytest.skip("Slurm is not running and starting it (.ci/slurm_up.sh) needs root")
    done = subprocess.run(["bash", str(SLURM_UP)], capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        pytest.skip(f".ci/slurm_up.sh could not start Slurm: {(done.stderr.strip().splitlines() or ['?'])[-1]}")


def _node_ready() -> bool:
    done = subprocess.run(["sinfo", "--noheader", "--format", "%T"], capture_output=True, text=True, timeout=30)
    return done.returncode == 0 and any(s.startswith(("idle", "mixed", "alloc")) for s in done.stdout.split())


@pytest.fixture
def data_root(tmp_path: Path) -> Path:
    public = tmp_path / "mle-bench" / COMPETITION / "prepared" / "public"
    public.mkdir(parents=True)
    (public / "train.csv").write_text("id,target\n1,0\n2,1\n")
    return tmp_path / "mle-bench"


def nodefix_jobs() -> list[str]:
    """``JOBID STATE`` of every nodefix job in Slurm's queue."""
    out = subprocess.run(
        ["squeue", "--noheader", "--array", "--format", "%i %T %j"], capture_output=True, text=True, timeout=30
    ).stdout
    return [" ".join(line.split()[:2]) for line in out.splitlines() if " nodefix-" in line]
