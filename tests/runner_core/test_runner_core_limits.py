"""Resource limits: memory sizes as configured, and the per-run pids cgroup."""

from __future__ import annotations

import os

import psutil
import pytest

from runner.limits import PidsCgroup, parse_memory_limit, pids_hierarchy
from workspace.errors import InputError

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


@pytest.mark.skipif(pids_hierarchy() is None, reason="no writable pids cgroup here")
def test_a_run_cgroup_caps_pids_and_stale_ones_are_cleared():
    dead = max(psutil.pids()) + 100_000  # above any pid in use
    stale = pids_hierarchy() / f"nodefix-{dead}-0000"
    stale.mkdir()
    cgroup = PidsCgroup.create(12)
    try:
        assert not stale.exists()
        assert (cgroup.path / "pids.max").read_text().strip() == "12"
        assert cgroup.path.name.startswith(f"nodefix-{os.getpid()}-")
        assert cgroup.pids() == []
    finally:
        assert cgroup.remove()
    assert not cgroup.path.exists()
