"""A script that attacks the bubblewrap sandbox as root would: nothing of the host's privilege reaches it.

Run as root (CI is root), these prove the sandbox drops to an unprivileged
user with no capabilities; as another user they prove the same of that user.
Every test is bounded far below the machine: memory caps of 512 MiB, small
scratch caps, short time limits.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from runner.cgroups import hierarchy

pytestmark = pytest.mark.timeout(90)

ATTACKS = r"""
import json, os, subprocess, sys, sysconfig
found = {}
status = open("/proc/self/status").read()
found["cap_eff"] = status.split("CapEff:")[1].split()[0]
found["uid"] = os.getuid()
def attempt(name, action):
    try:
        action()
        found[name] = "succeeded"
    except OSError as exc:
        found[name] = type(exc).__name__
attempt("shadow", lambda: open("/etc/shadow").read())
attempt("core_pattern", lambda: open("/proc/sys/kernel/core_pattern", "w").close())
attempt("sysrq", lambda: open("/proc/sysrq-trigger", "w").close())
site = sysconfig.get_paths()["purelib"]
attempt("plant_pth", lambda: open(os.path.join(site, "nodefix_planted.pth"), "w").write("import os\n"))
attempt("plant_prefix", lambda: open(os.path.join(sys.prefix, "nodefix_planted.txt"), "w").close())
attempt("data_write", lambda: open("data/planted.csv", "w").close())
found["remount"] = [
    subprocess.run(["mount", "-o", "remount,rw", "--bind", path], capture_output=True).returncode
    for path in ("/usr", "/etc", sys.prefix, "data")
]
print("FOUND", json.dumps(found))
"""


def _found(collected) -> dict:
    line = next(line for line in collected.printed.splitlines() if line.startswith("FOUND "))
    return json.loads(line.removeprefix("FOUND "))


def test_the_script_has_no_privilege_capability_or_host_secret(run_code, data_root):
    collected = run_code(ATTACKS)
    assert collected.result.verdict.kind == "no_submission", collected.printed
    found = _found(collected)
    assert found["cap_eff"] == "0000000000000000"
    assert found["uid"] != 0
    assert found["shadow"] == "PermissionError"
    assert found["core_pattern"] in ("PermissionError", "OSError")  # EACCES, or EROFS from the read-only bind
    assert found["sysrq"] in ("PermissionError", "OSError", "FileNotFoundError")
    assert found["plant_pth"] in ("PermissionError", "OSError")
    assert found["plant_prefix"] in ("PermissionError", "OSError")
    assert found["data_write"] in ("PermissionError", "OSError")
    assert all(code != 0 for code in found["remount"]), found["remount"]
    site = Path(sys.prefix) / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "site-packages"
    assert not (site / "nodefix_planted.pth").exists()
    assert not (Path(sys.prefix) / "nodefix_planted.txt").exists()
    assert not (data_root / "tiny-competition" / "prepared" / "public" / "planted.csv").exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="the scratch folder is handed to nobody only when nodefix is root")
def test_as_root_the_script_runs_as_nobody_and_owns_only_its_scratch(run_code):
    collected = run_code("import os\nopen('mine.txt', 'w').write('x')\nprint('uid', os.getuid())\n")
    assert "uid 1000" in collected.printed
    assert (collected.result.run_dir / "scratch" / "mine.txt").stat().st_uid == 65534


def test_a_symlinked_submission_is_not_a_clean_run(run_code):
    collected = run_code("import os\nos.symlink('/etc/hostname', 'submission.csv')\n")
    result = collected.result
    assert not result.submission_written
    assert result.verdict.kind == "no_submission"
    assert any("submission.csv: refused" in note for note in result.notes), result.notes


def test_a_fifo_submission_is_refused_without_blocking_the_host(run_code):
    collected = run_code("import os\nos.mkfifo('submission.csv')\n")
    assert collected.result.verdict.kind == "no_submission"
    assert any("not a regular file" in note for note in collected.result.notes)


_memory_cgroup = pytest.mark.skipif(hierarchy("memory") is None, reason="no writable memory cgroup here")


@_memory_cgroup
def test_three_children_of_400_mib_cannot_pass_a_512m_cap_together(run_code):
    code = (
        "import multiprocessing as mp, time\n"
        "def hold():\n"
        "    block = bytearray(400 * 1024 * 1024)\n"
        "    for i in range(0, len(block), 4096): block[i] = 1\n"
        "    time.sleep(20)\n"
        "if __name__ == '__main__':\n"
        "    workers = [mp.Process(target=hold) for _ in range(3)]\n"
        "    [w.start() for w in workers]\n"
        "    [w.join() for w in workers]\n"
        "    print('codes', [w.exitcode for w in workers])\n"
        "    raise SystemExit(1 if any(w.exitcode for w in workers) else 0)\n"
    )
    collected = run_code(code, memory_limit="512M", time_limit=40)
    verdict = collected.result.verdict
    assert verdict.kind == "killed", (verdict, collected.printed[-500:])
    assert verdict.detail.startswith("out of memory (memory_limit 512M)")


@_memory_cgroup
def test_a_full_tmp_cannot_pass_the_memory_cap(run_code):
    code = (
        "chunk = b'x' * (16 * 1024 * 1024)\n"
        "with open('/tmp/fill', 'wb') as f:\n"
        "    for n in range(96):  # 1.5 GiB\n"
        "        f.write(chunk)\n"
        "        f.flush()\n"
        "print('wrote it all')\n"
    )
    collected = run_code(code, memory_limit="512M", time_limit=40)
    verdict = collected.result.verdict
    assert "wrote it all" not in collected.printed
    # the sized /tmp is full at 512 MiB (an OSError), or the cgroup ends the run first
    assert verdict.kind in ("error", "killed"), verdict
    assert "No space left" in verdict.detail or verdict.detail.startswith("out of memory"), verdict.detail


def test_filling_the_scratch_cap_is_a_verdict(run_code):
    code = (
        "import time\n"
        "chunk = b'x' * (4 * 1024 * 1024)\n"
        "for n in range(24):  # 96 MiB in files of 4 MiB, each under the per-file cap\n"
        "    open(f'fill{n}.bin', 'wb').write(chunk)\n"
        "time.sleep(30)\n"
    )
    collected = run_code(code, scratch_limit="32M", time_limit=40)
    result = collected.result
    assert result.verdict.kind == "killed", result.verdict
    assert "scratch folder filled its cap (scratch_limit 32M)" in result.verdict.detail
    assert result.duration < 20
    left = sum(p.stat().st_size for p in (result.run_dir / "scratch").iterdir())
    assert left < 64 * 1024 * 1024  # trimmed after the run: no checkpoints of a big run are kept


def test_one_file_past_the_scratch_cap_fails_in_the_script(run_code):
    collected = run_code("open('big.bin', 'wb').write(b'x' * (48 * 1024 * 1024))\n", scratch_limit="32M")
    verdict = collected.result.verdict
    # the write stops at the cap (EFBIG); the once-a-second check may see the full scratch first
    assert ("File too large" in verdict.detail) or verdict.detail.startswith("the scratch folder filled"), verdict
    assert (collected.result.run_dir / "scratch" / "big.bin").stat().st_size <= 32 * 1024 * 1024


@pytest.mark.parametrize("competition_id", ["../../etc", "a/b", "..", "x\x1b[2J"])
def test_a_competition_id_that_is_no_name_never_becomes_a_path(tmp_path, make_settings, competition_id):
    from runner.execute import execute
    from runner.spec import RunSpec

    spec = RunSpec(code="print(1)\n", competition_id=competition_id, settings=make_settings(), run_dir=tmp_path / "r")
    result = execute(spec)
    assert result.verdict.kind == "environment"
    assert "is not a competition's name" in result.verdict.detail
    assert result.command == []


def test_a_script_that_rewrites_its_own_runfile_cannot_change_the_verified_hash(make_dataset, make_settings, tmp_path):
    from runner import bookkeeping
    from workspace.run_rules import code_sha256
    from workspace.store import open_workspace

    fix = "open('runfile.py', 'w').write('print(\"some other fix\")\\n')\n"
    with open_workspace(make_dataset([{"competition_id": "tiny-competition"}]), tmp_path / "ws") as ws:
        prepared = bookkeeping.prepare_run(ws, "row-0", 0, bookkeeping.FIX, make_settings(), fix=fix)
        result = bookkeeping.start(prepared)
        assert (prepared.spec.scratch / "runfile.py").read_text() != fix  # the script did rewrite it
        bookkeeping.record(ws, prepared, result)
        assert ws.step("row-0").verification.code_sha256 == code_sha256(fix)
