"""Hostile scripts end in a verdict: no hang, no crash of nodefix, no change outside the scratch folder.

The unbounded cases (fork bomb, 100 GB) first prove their limit holds on a
bounded version, so a limit that does not hold fails the test without harm.
"""

from __future__ import annotations

import select
import socket
import time

import pytest

pytestmark = pytest.mark.timeout(90)

BACKENDS = ["bubblewrap", "local"]

FORK_BOMB = """
import os
print('bombing', flush=True)
while True:
    try:
        os.fork()
    except OSError:
        pass
"""


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_fork_bomb_is_capped_and_ended(run_code, leftovers, fork_300, backend):
    bounded = run_code(fork_300, backend, max_processes=50)
    made = int(bounded.printed.split()[-1])
    assert made < 60, f"the process cap did not hold: {made} children"

    started = time.monotonic()
    run = run_code(FORK_BOMB, backend, max_processes=50, time_limit=3.0)
    assert run.result.verdict.kind == "time_limit"
    assert time.monotonic() - started < 20
    assert leftovers(run.mark) == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_endless_print_loop_is_ended_at_the_limit(run_code, leftovers, backend):
    run = run_code("while True:\n    print('spam' * 20)\n", backend, time_limit=1.5)
    assert run.result.verdict.kind == "time_limit"
    assert run.result.log_path.stat().st_size > 100_000
    assert len(run.result.output_tail.encode()) <= 64 * 1024
    assert leftovers(run.mark) == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_100_gb_allocation_fails_inside_the_script(run_code, backend):
    bounded = run_code("b = bytearray(2 * 1024**3)\nb[::4096] = b'x' * len(b[::4096])\n", backend, memory_limit="1G")
    assert bounded.result.verdict.kind == "error", "the memory limit did not hold on 2 GB"

    run = run_code("import numpy as np\na = np.ones(100 * 1024**3 // 8)\n", backend, memory_limit="1G")
    assert run.result.verdict.kind == "error"
    assert "MemoryError" in run.result.verdict.error.exc_type


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_script_that_closes_its_output_still_gets_a_verdict(run_code, leftovers, backend):
    code = "import os, time\nprint('closing', flush=True)\nos.close(1)\nos.close(2)\ntime.sleep(60)\n"
    run = run_code(code, backend, time_limit=2.0)
    assert run.result.verdict.kind == "time_limit"
    assert "closing" in run.printed
    assert leftovers(run.mark) == []

    quits = run_code("import os, sys\nfor fd in (0, 1, 2):\n    os.close(fd)\nos._exit(3)\n", backend)
    assert quits.result.exit_code == 3
    assert quits.result.verdict.kind == "error"


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_network_is_cut(run_code, backend):
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    port = listener.getsockname()[1]
    try:
        code = (
            "import socket\n"
            "try:\n"
            f"    socket.create_connection(('127.0.0.1', {port}), timeout=3)\n"
            "    print('CONNECTED')\n"
            "except OSError as exc:\n"
            "    print('BLOCKED', type(exc).__name__)\n"
        )
        run = run_code(code, backend)
        assert run.printed.startswith("BLOCKED")
        assert select.select([listener], [], [], 0)[0] == []  # nobody knocked
    finally:
        listener.close()


def test_writes_outside_the_scratch_folder_fail_and_leave_the_host_untouched(run_code, tmp_path, data_root):
    outside = tmp_path / "outside.txt"
    outside.write_text("original")
    train = data_root / "tiny-competition" / "prepared" / "public" / "train.csv"
    before = train.read_text()
    targets = [
        str(outside),
        str(tmp_path / "new.txt"),
        "data/train.csv",
        "data/new.csv",
        "/etc/nodefix-test",
        "/usr/nodefix-test",
        "/nodefix-test",
        "../escape.txt",
    ]
    code = (
        f"for path in {targets!r}:\n"
        "    try:\n"
        "        with open(path, 'w') as f:\n"
        "            f.write('changed')\n"
        "        print('WROTE', path)\n"
        "    except OSError as exc:\n"
        "        print('refused', path, exc.errno)\n"
        "open('inside.txt', 'w').write('fine')\n"
    )
    run = run_code(code, "bubblewrap")
    assert "WROTE" not in run.printed
    assert run.printed.count("refused") == len(targets)
    assert outside.read_text() == "original"
    assert not (tmp_path / "new.txt").exists()
    assert train.read_text() == before
    assert sorted(p.name for p in train.parent.iterdir()) == ["sample_submission.csv", "test.csv", "train.csv"]
    assert not (run.result.run_dir / "escape.txt").exists()
    assert (run.result.run_dir / "scratch" / "inside.txt").read_text() == "fine"


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_script_that_ignores_sigterm_is_killed_after_the_grace(run_code, leftovers, backend):
    code = (
        "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "print('stubborn', flush=True)\nwhile True:\n    time.sleep(0.05)\n"
    )
    started = time.monotonic()
    run = run_code(code, backend, time_limit=0.5)
    assert run.result.verdict.kind == "time_limit"
    assert time.monotonic() - started < 10
    assert leftovers(run.mark) == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_limit_asks_politely_first(run_code, backend):
    code = (
        "import signal, sys, time\n"
        "def leave(signum, frame):\n"
        "    print('cleaning up after SIGTERM', flush=True)\n"
        "    sys.exit(0)\n"
        "signal.signal(signal.SIGTERM, leave)\n"
        "print('working', flush=True)\n"
        "while True:\n    time.sleep(0.05)\n"
    )
    run = run_code(code, backend, time_limit=1.0)
    assert run.result.verdict.kind == "time_limit"
    assert run.printed == "working\ncleaning up after SIGTERM\n"
