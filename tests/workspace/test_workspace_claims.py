"""Two real processes on one workspace: claims, staleness, concurrent writes, shared undo."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import time

import pytest

from workspace.claims import STALE_AFTER
from workspace.errors import InputError

HOLDER = """
import sys
from workspace.store import open_workspace
ws = open_workspace(sys.argv[1])
print("claimed" if ws.claim(sys.argv[2]) else "refused", flush=True)
for line in sys.stdin:
    if line.strip() == "beat":
        ws.heartbeat()
        print("beaten", flush=True)
    if line.strip() == "release":
        ws.release(sys.argv[2])
        print("released", flush=True)
    if line.strip() == "quit":
        break
ws.close()
"""


def test_a_row_claimed_in_another_process_is_read_only_here(open_ws, child) -> None:
    ws = open_ws()
    holder = child(HOLDER, str(ws.path), "row-1")
    assert holder.read_line() == "claimed"
    who = ws.claimed_by("row-1")
    assert who is not None
    assert who.endswith(f"@{socket.gethostname()} pid {holder.proc.pid}")
    assert ws.claim("row-1") is False
    assert ws.summaries()[1].claimed_by == who
    with pytest.raises(InputError, match=f"being edited by .*pid {holder.proc.pid}"):
        ws.update_step("row-1", 0, revised_analysis="mine")
    with pytest.raises(InputError, match="being edited by"):
        ws.set_status("row-1", "rejected", "other")
    ws.update_step("row-0", 0, revised_analysis="other rows stay editable")
    holder.send("release")
    assert holder.read_line() == "released"
    assert ws.claimed_by("row-1") is None
    assert ws.claim("row-1") is True
    assert ws.update_step("row-1", 0, revised_analysis="mine").revised_analysis == "mine"
    holder.send("quit")
    assert holder.proc.wait(timeout=20) == 0


def test_my_claim_refuses_another_process(open_ws, child) -> None:
    ws = open_ws()
    assert ws.claim("row-0") is True
    other = child(HOLDER, str(ws.path), "row-0")
    assert other.read_line() == "refused"
    ws.release("row-0")
    again = child(HOLDER, str(ws.path), "row-0")
    assert again.read_line() == "claimed"


def test_a_killed_holder_leaves_a_stale_claim(open_ws, child) -> None:
    ws = open_ws()
    holder = child(HOLDER, str(ws.path), "row-2")
    assert holder.read_line() == "claimed"
    assert ws.claimed_by("row-2") is not None
    os.kill(holder.proc.pid, signal.SIGKILL)
    holder.proc.wait(timeout=20)
    assert ws.claimed_by("row-2") is None
    assert ws.claim("row-2") is True


def test_a_claim_from_another_host_is_stale_without_heartbeat(open_ws) -> None:
    ws = open_ws()
    conn = sqlite3.connect(ws.path / "nodefix.db")
    for row_id, age in (("row-0", 5), ("row-1", STALE_AFTER + 5)):
        conn.execute(
            "INSERT INTO claims(row_id, holder, host, pid, token, heartbeat) VALUES (?, ?, ?, ?, ?, ?)",
            (row_id, "bob@far pid 1", "far-host", 1, "t-" + row_id, time.time() - age),
        )
    conn.commit()
    conn.close()
    assert ws.claimed_by("row-0") == "bob@far pid 1"
    assert ws.claimed_by("row-1") is None
    assert ws.claim("row-1") is True


def test_a_live_holder_without_heartbeat_goes_stale_until_it_beats(open_ws, child) -> None:
    ws = open_ws()
    holder = child(HOLDER, str(ws.path), "row-0")
    assert holder.read_line() == "claimed"
    conn = sqlite3.connect(ws.path / "nodefix.db")
    conn.execute("UPDATE claims SET heartbeat = heartbeat - ?", (STALE_AFTER + 1,))
    conn.commit()
    conn.close()
    assert ws.claimed_by("row-0") is None
    holder.send("beat")
    assert holder.read_line() == "beaten"
    assert ws.claimed_by("row-0") is not None


WRITER = """
import sys
from workspace.store import open_workspace
ws = open_workspace(sys.argv[1])
for i in range(100):
    ws.update_step(sys.argv[2], 0, revised_analysis=f"{sys.argv[2]} {i}")
    ws.add_time(sys.argv[2], 0, 1)
ws.set_status(sys.argv[2], "blocked", note="from a child")
ws.close()
print("finished", flush=True)
"""


def test_two_processes_writing_at_once_corrupt_nothing(open_ws, child) -> None:
    ws = open_ws()
    writers = [child(WRITER, str(ws.path), row_id) for row_id in ("row-0", "row-1")]
    for i in range(100):
        ws.update_step("row-2", 0, revised_analysis=f"row-2 {i}")
    for writer in writers:
        assert writer.read_line(deadline=60) == "finished"
        assert writer.proc.wait(timeout=20) == 0
    for row_id in ("row-0", "row-1"):
        assert ws.step(row_id).revised_analysis == f"{row_id} 99"
        assert ws.step(row_id).time_spent == 100
        assert ws.status(row_id) == ("blocked", None, "from a child")
    assert ws.step("row-2").revised_analysis == "row-2 99"
    conn = sqlite3.connect(ws.path / "nodefix.db")
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


def test_undo_reaches_a_decision_made_by_another_process(open_ws, child) -> None:
    ws = open_ws()
    decider = child(
        "import sys\nfrom workspace.store import open_workspace\n"
        "with open_workspace(sys.argv[1]) as ws:\n"
        "    ws.set_status('row-0', 'rejected', 'time_limit')\n"
        "print('decided', flush=True)\n",
        str(ws.path),
    )
    assert decider.read_line() == "decided"
    assert ws.status("row-0") == ("rejected", "time_limit", None)
    assert "rejected (time_limit)" in ws.undo()
    assert ws.status("row-0")[0] == "untouched"
