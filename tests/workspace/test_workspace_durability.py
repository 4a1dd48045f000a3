"""A process killed with SIGKILL mid-typing loses nothing it had committed."""

from __future__ import annotations

import os
import signal

from workspace.store import open_workspace

TYPIST = """
import sys, time
from workspace.store import open_workspace
ws = open_workspace(sys.argv[1])
ws.claim("row-0")
i = 0
while True:
    i += 1
    ws.update_step("row-0", 0, revised_analysis=f"draft {i}", cwm_analysis="x" * i)
    print(i, flush=True)
    time.sleep(0.05)
"""


def test_sigkill_keeps_the_last_committed_value(open_ws, child) -> None:
    ws = open_ws()
    path = ws.path
    ws.close()
    typist = child(TYPIST, str(path))
    reported = [int(typist.read_line()) for _ in range(12)]
    os.kill(typist.proc.pid, signal.SIGKILL)
    reported += [int(line) for line in typist.remaining_lines()]
    assert typist.proc.returncode == -signal.SIGKILL
    last = reported[-1]
    with open_workspace(path) as again:
        step = again.step("row-0")
        # It may have committed one more value between its last print and the kill, never fewer.
        assert step.revised_analysis in (f"draft {last}", f"draft {last + 1}")
        assert step.cwm_analysis == "x" * int(step.revised_analysis.split()[1])
        assert again.claimed_by("row-0") is None  # the dead typist's claim is stale
        assert again.claim("row-0") is True
