"""Resource limits: memory sizes as configured, and the per-run pids cgroup."""

from __future__ import annotations

import os

import psutil
import pytest

from runner.cgroups import Cgroup, hierarchy
from runner.limits import budget_for_jobs
from workspace.config import RunSettings
from workspace.errors import InputError
from workspace.sizes import parse_memory_limit

pytestmark = pytest.mark.timeout(30)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("16G", 16 * 1024**3), ("512M", 512 * 1024**2), ("1.5GiB", int(1.5 * 1024**3)), ("1048576", 1048576)],
)
def test_memory_limits_read_as_sizes(text, expected):
    assert parse_memory_limit(text) == expected


def test_memory_limit_as_a_share_of_this_machine():
    assert parse_memory_limit("50%") == psutil.virtual_memory().total // 2


@pytest.mark.parametrize("text", ["lots", "0G", "150%", "-1G"])
def test_a_bad_memory_limit_names_the_setting(text):
    with pytest.raises(InputError, match="run.memory_limit"):
        parse_memory_limit(text)


@pytest.mark.skipif(hierarchy("pids") is None, reason="no writable pids cgroup here")
def test_a_run_cgroup_caps_pids_and_stale_ones_are_cleared():
    dead = max(psutil.pids()) + 100_000  # above any pid in use
    stale = hierarchy("pids")[0] / f"nodefix-{dead}-0000"
    stale.mkdir()
    cgroup = Cgroup.create("pids", 12)
    try:
        assert not stale.exists()
        assert (cgroup.path / "pids.max").read_text().strip() == "12"
        assert cgroup.path.name.startswith(f"nodefix-{os.getpid()}-")
        assert cgroup.pids() == []
    finally:
        assert cgroup.remove()
    assert not cgroup.path.exists()


@pytest.mark.skipif(hierarchy("memory") is None, reason="no writable memory cgroup here")
def test_a_run_memory_cgroup_is_capped_at_the_limit():
    base, version = hierarchy("memory")
    cgroup = Cgroup.create("memory", 256 * 1024**2)
    try:
        cap = "memory.max" if version == 2 else "memory.limit_in_bytes"
        assert int((cgroup.path / cap).read_text()) == 256 * 1024**2
        assert cgroup.oom_kills() == 0
    finally:
        assert cgroup.remove()


def test_replicate_jobs_share_the_machine_memory_between_them():
    total = psutil.virtual_memory().total
    eight = budget_for_jobs(RunSettings(memory_limit="80%"), 8)
    assert parse_memory_limit(eight.memory_limit) == total // 8
    small = RunSettings(memory_limit="256M")
    assert budget_for_jobs(small, 8) is small  # already within its share: unchanged
