"""Runs see what the client's container shows: GPUs, a CPU view, the thread budget, variables, symlinked data."""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import pytest

from runner.devices import gpu_indices
from runner.run_env import THREAD_VARIABLES, cpu_shares, gpu_shares, usable_cpus

COMPETITION = "tiny-competition"

pytestmark = pytest.mark.timeout(60)

REPORT = """
import json, os
report = {"env": {k: os.environ.get(k) for k in %r}, "affinity": sorted(os.sched_getaffinity(0))}
report["dev"] = sorted(n for n in os.listdir("/dev") if n.startswith("nvidia"))
report["chr"] = [n for n in report["dev"] if __import__("stat").S_ISCHR(os.stat("/dev/" + n).st_mode)]
print("REPORT", json.dumps(report))
"""


def _report(collected) -> dict:
    line = next(line for line in collected.printed.splitlines() if line.startswith("REPORT "))
    return json.loads(line.split(" ", 1)[1])


def _variables() -> list[str]:
    return [*THREAD_VARIABLES, "CUDA_VISIBLE_DEVICES", "SEED"]


def test_a_single_run_gets_a_thread_budget_of_every_usable_cpu(run_code):
    done = run_code(REPORT % _variables())
    report = _report(done)
    budget = str(len(usable_cpus()))
    assert {k: report["env"][k] for k in THREAD_VARIABLES} == dict.fromkeys(THREAD_VARIABLES, budget)
    assert report["affinity"] == list(usable_cpus())
    assert report["env"]["CUDA_VISIBLE_DEVICES"] is None


def test_a_pinned_run_sees_its_share_and_config_env_wins(run_code):
    share = cpu_shares(2)[1]
    done = run_code(REPORT % _variables(), spec_changes={"cpus": share}, env={"OMP_NUM_THREADS": "3", "SEED": "7"})
    report = _report(done)
    assert report["affinity"] == list(share)
    assert report["env"]["MKL_NUM_THREADS"] == str(len(share))
    assert report["env"]["OMP_NUM_THREADS"] == "3"
    assert report["env"]["SEED"] == "7"


def test_threads_setting_overrides_the_budget(run_code):
    report = _report(run_code(REPORT % _variables(), threads=5))
    assert report["env"]["OPENBLAS_NUM_THREADS"] == "5"


@pytest.fixture
def stand_in_gpus(tmp_path: Path) -> Path:
    """Character device nodes named like NVIDIA's (copies of /dev/null's numbers), in a folder of their own."""
    if os.geteuid() != 0:
        pytest.skip("making device nodes needs root")
    folder = tmp_path / "dev"
    folder.mkdir()
    null = os.stat("/dev/null").st_rdev
    for name in ("nvidia0", "nvidia1", "nvidiactl", "nvidia-uvm"):
        os.mknod(folder / name, 0o666 | stat.S_IFCHR, null)
    return folder


def test_gpu_nodes_are_passed_through_and_pinned(run_code, stand_in_gpus, make_settings):
    pattern = f"{stand_in_gpus}/nvidia*"
    assert gpu_indices(make_settings(gpu_devices=pattern)) == [0, 1]
    done = run_code(REPORT % _variables(), gpu_devices=pattern, spec_changes={"gpus": (1,)})
    report = _report(done)
    assert report["chr"] == ["nvidia-uvm", "nvidia0", "nvidia1", "nvidiactl"]
    assert report["env"]["CUDA_VISIBLE_DEVICES"] == "1"
    assert _report(run_code(REPORT % _variables(), gpu_devices=pattern, gpu=False))["dev"] == []


def test_gpus_are_dealt_round_robin():
    assert gpu_shares(3, [0, 1], 1) == [(0,), (1,), (0,)]
    assert gpu_shares(2, [0, 1, 2, 3], 2) == [(0, 1), (2, 3)]
    assert gpu_shares(2, [], 1) == [None, None]
    assert cpu_shares(2, (0, 1, 2, 3, 4)) == [(0, 1, 2), (3, 4)]
    assert cpu_shares(3, (0, 1)) == [(0,), (1,), (0,)]


@pytest.mark.skipif(not shutil.which("nvidia-smi"), reason="no NVIDIA GPU on this machine")
def test_a_real_gpu_is_usable_inside(run_code):
    done = run_code("import subprocess; subprocess.run(['nvidia-smi', '-L'], check=True)")
    assert done.result.verdict.kind == "no_submission", done.printed
    assert "GPU 0" in done.printed


CPU_VIEW = """
import os, subprocess, warnings
from joblib.externals.loky.backend.context import _count_physical_cores
cores, problem = _count_physical_cores()
print("CORES", cores, problem)
print("LSCPU", subprocess.run(["lscpu"], capture_output=True, text=True).returncode)
"""


def test_libraries_can_count_physical_cores(run_code):
    done = run_code(CPU_VIEW)
    words = dict(line.split(" ", 1) for line in done.printed.splitlines() if " " in line)
    assert words["CORES"].split()[0].isdigit(), done.printed
    assert words["CORES"].endswith("None")
    if shutil.which("lscpu"):
        assert words["LSCPU"] == "0"


READ_DATA = """
import os
for name in sorted(os.listdir("data")):
    with open(os.path.join("data", name)) as handle:
        print(name, handle.read().split(",")[0])
"""


def test_a_data_root_of_per_file_symlinks_reads_inside(run_code, data_root, tmp_path):
    public = data_root / COMPETITION / "prepared" / "public"
    store = tmp_path / "store" / "files"
    shutil.move(str(public), str(store))
    public.mkdir()
    os.symlink(store / "train.csv", public / "train.csv")  # absolute, as ``cp -rs`` makes them
    os.symlink(os.path.relpath(store / "test.csv", public), public / "test.csv")
    (public / "sample_submission.csv").write_text("id,target\n")
    done = run_code(READ_DATA)
    assert done.printed.split() == ["sample_submission.csv", "id", "test.csv", "id", "train.csv", "id"], done.printed


def test_a_threads_setting_of_minus_one_sets_no_budget(run_code):
    report = _report(run_code(REPORT % _variables(), threads=-1))
    assert all(report["env"][name] is None for name in THREAD_VARIABLES)
