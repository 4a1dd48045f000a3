"""A traced script killed at the time limit keeps its frames, and the time cap holds inside library calls."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.timeout(60)

SLEEPER = """
import time

def load():
    rows = [1, 2, 3]
    total = sum(rows)
    return total

value = load()
print("loaded", value, flush=True)
time.sleep(60)
print("never")
"""


def test_sigterm_in_a_library_call_keeps_every_frame_and_says_killed(script, tracer_path, tmp_path, wait_until):
    path = script(SLEEPER)
    out, meta = tmp_path / "trace.txt", tmp_path / "meta.json"
    process = subprocess.Popen(
        [sys.executable, str(tracer_path), path.name, "--out", str(out), "--meta", str(meta)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout.readline() == "loaded 6\n"
        # the timer flushes what was traced while the script sleeps: it is on disk before any signal
        assert wait_until(lambda: "total = sum(rows)" in out.read_text(), seconds=10)
        assert json.loads(meta.read_text())["frames_so_far"] > 0
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == -signal.SIGTERM  # it dies of the signal, as untraced
        assert time.monotonic() - started < 5  # at once, though the main thread is inside time.sleep
    finally:
        process.kill()
        process.wait()
    written = json.loads(meta.read_text())
    assert written["complete"] is False
    assert written["killed"] == "SIGTERM"
    trace = out.read_text()
    frames = trace.split("<|frame_sep|>")
    assert frames[-1] == ""
    assert frames[-2] == (
        f"[cwm_tracer: killed by SIGTERM after {written['frames_total']} frames; every frame traced until then is kept]"
    )
    assert "time.sleep(60)" in frames[-3]
    assert any("return total" in frame and "<|return_sep|>" in frame for frame in frames)


def test_the_time_cap_ends_tracing_inside_a_long_call(script, traced):
    path = script("""
        import time

        def wait():
            time.sleep(2.5)
            return 1

        wait()
        after = 2
    """)
    result = traced(path, "--max-seconds", "0.5")
    assert result.process.returncode == 0
    assert result.meta["stopped_by_time"] is True
    frames = result.trace.split("<|frame_sep|>")
    assert "[cwm_tracer: tracing stopped after" in frames[-2]
    assert "time.sleep(2.5)" in frames[-3]  # nothing after the call that outlasted the cap, not even its return
    assert "<|return_sep|>" not in result.trace


def test_a_forked_child_dies_of_sigterm_as_usual(script, traced):
    path = script("""
        import os, signal, time

        pid = os.fork()
        if pid == 0:
            time.sleep(30)
            os._exit(0)
        os.kill(pid, signal.SIGTERM)
        _, status = os.waitpid(pid, 0)
        print("child ended by signal", os.WTERMSIG(status))
    """)
    result = traced(path, timeout=20)
    assert result.process.stdout == "child ended by signal 15\n"
    assert result.meta["complete"] is True
