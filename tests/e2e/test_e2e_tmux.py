"""The installed ``nodefix`` in a detached tmux session at 80x24, driven as a person over SSH would.

The first session works one fixable demo row end to end (replicate, trace,
insert trace lines into cwm_analysis, fix, re-run, done, quit); ``nodefix
export`` and ``nodefix validate`` then check the deliverable. The second
session types into a field and is killed with SIGKILL mid-typing: what was
typed more than a second before the kill must be in the SQLite file.

Keys are sent with ``tmux send-keys`` and the screen read with
``tmux capture-pane``; every wait polls the screen or the database against
a deadline.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from polling import poll_until

from demo.catalogue import ROWS

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

DEADLINE = 30.0  # seconds for any one thing to show up
ROW = next(row for row in ROWS if row.name == "spaceship-input-path")
FIXED_LINES = ('train = pd.read_csv("./data/train.csv")', 'test = pd.read_csv("./data/test.csv")')


def nodefix_command() -> str | None:
    beside = Path(sys.executable).with_name("nodefix")
    return str(beside) if beside.is_file() else shutil.which("nodefix")


NODEFIX = nodefix_command()
if shutil.which("tmux") is None or NODEFIX is None:
    pytest.skip("needs tmux and the installed nodefix command", allow_module_level=True)


class Terminal:
    """One detached tmux session on a private server (its socket under the test's tmp_path), 80x24."""

    def __init__(self, name: str, socket: Path, cwd: Path, command: list[str], env: dict[str, str]) -> None:
        self.socket = str(socket)
        self.name = name
        exports = [f"{key}={value}" for key, value in env.items()]
        self._tmux("new-session", "-d", "-s", name, "-x", "80", "-y", "24", "-c", str(cwd), "env", *exports, *command)

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["tmux", "-S", self.socket, *args], capture_output=True, text=True, timeout=30, check=False
        )

    def _tmux(self, *args: str) -> str:
        done = self._run(*args)
        if done.returncode != 0:
            raise RuntimeError(f"tmux {' '.join(args[:3])}: {done.stderr.strip()}")
        return done.stdout

    def keys(self, *keys: str) -> None:
        """Named keys (Enter, Escape, Home, S-End, ...) or single characters, one after another."""
        for key in keys:
            self._tmux("send-keys", "-t", self.name, key)

    def type(self, text: str) -> None:
        self._tmux("send-keys", "-t", self.name, "-l", text)

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", self.name)

    def wait_for(self, text: str, what: str | None = None) -> str:
        def showing() -> str | None:
            screen = self.screen()
            return screen if text in screen else None

        return wait(showing, what or f"{text!r} on screen", self.screen)

    def pid(self) -> int:
        return int(self._tmux("display-message", "-p", "-t", self.name, "#{pane_pid}").strip())

    def alive(self) -> bool:
        return self._run("has-session", "-t", self.name).returncode == 0

    def close(self) -> None:
        """Kill the session; one whose program already died (or is dying) is gone, which is fine too."""
        done = self._run("kill-session", "-t", self.name)
        if done.returncode != 0:  # tmux answers "no current target" while it tears a dead session down
            wait(lambda: not self.alive(), f"session {self.name} to end ({done.stderr.strip()})")


def wait(probe: Callable[[], object], what: str, context: Callable[[], str] = lambda: "") -> object:
    """Poll ``probe`` until it returns something truthy (returned); fail after DEADLINE seconds showing ``context``."""
    found = poll_until(probe, DEADLINE)
    if not found:
        pytest.fail(f"timed out waiting for {what}\n{context()}")
    return found


class Db:
    """Read-only queries on the workspace's SQLite file, as another process sees it."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def one(self, sql: str, params: tuple = ()) -> tuple | None:
        if not self.path.is_file():
            return None
        conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=5)
        try:
            return conn.execute(sql, params).fetchone()
        finally:
            conn.close()

    def step(self, row_id: str, column: str) -> object:
        found = self.one(f"SELECT {column} FROM steps WHERE row_id = ? AND k = 0", (row_id,))
        return None if found is None else found[0]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "TERM": "xterm-256color",
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "NODEFIX_ANNOTATOR": "e2e",
    }


def open_session(name: str, dataset: Path, workspace: Path, env: dict[str, str]) -> Terminal:
    """``nodefix open`` in the dataset's folder (its nodefix.toml points at the demo's data)."""
    return Terminal(
        name,
        workspace.parent / "tmux.sock",
        dataset.parent,
        [NODEFIX, "open", str(dataset), "--workspace", str(workspace)],
        env,
    )


def test_a_day_on_one_row_then_a_crash_mid_typing(demo, env: dict[str, str], tmp_path: Path) -> None:
    dataset, workspace = demo.dataset, tmp_path / "workspace"
    db = Db(workspace / "nodefix.db")
    term = open_session("day", dataset, workspace, env)
    try:
        work_one_row(term, db)
    finally:
        term.close()
    export_and_validate(dataset, workspace, tmp_path, env)
    crash = open_session("crash", dataset, workspace, env)
    try:
        kill_mid_typing(crash, db)
    finally:
        crash.close()


def work_one_row(term: Terminal, db: Db) -> None:
    term.wait_for("done 0 · rejected 0", "the queue")
    assert ROW.id[:8] in term.screen().split("\n")[2], "the first row is the fixable one"
    term.keys("Enter")
    term.wait_for(f"row 1/14 · untouched · step 0 · {ROW.competition_id}", "the task view")

    term.keys("o")  # replicate: run the original code
    term.wait_for("same error as recorded", "the replication's verdict")
    assert db.one("SELECT verdict FROM runs WHERE row_id = ? AND purpose = 'original'", (ROW.id,)) == ("error",)

    term.keys("t")  # trace the buggy code, from the whole script (the failing line is at module level)
    term.wait_for("the whole script", "the entry picker")
    term.keys("Enter")
    term.wait_for("exc     5  train = pd.read_csv", "the trace, compact")
    term.keys("/")  # a prompt opens and escape closes it, staying in the trace
    wait(lambda: "Mark" not in footer(term.screen()), "the find prompt to take the keys", term.screen)
    term.keys("Escape")
    wait(lambda: "space Mark" in footer(term.screen()), "the browser to have the keys again", term.screen)
    term.keys("E", "Space")  # first exception, mark it
    term.wait_for("1 marked (i inserts)", "the mark")
    term.keys("i")
    exception_line = '<|frame_sep|><|exception_sep|><|action_sep|>train = pd.read_csv("./input/train.csv")'
    wait(lambda: exception_line in (db.step(ROW.id, "cwm_analysis") or ""), "the inserted line to be saved")
    assert db.step(ROW.id, "cwm_analysis") == f"```\n{exception_line}\n```\n"
    term.keys("5")
    term.wait_for("verbatim: every quoted trace line mat", "the verbatim check")  # a toast may cover the rest

    term.keys("2")
    term.wait_for("╭─ 2 code", "the code pane")
    term.keys("l")  # the code pane on the failing line (5); its keys stay live until enter
    wait(lambda: "^g Go to line" in footer(term.screen()), "the code pane to have the keys", term.screen)
    assert "x Reject" in footer(term.screen())
    term.keys("Enter")  # the cursor in the editor, on that line
    wait(lambda: "x Reject" not in footer(term.screen()), "the editor to take the keys", term.screen)
    for n, line in enumerate(FIXED_LINES):
        lineno = 5 + n
        # Movement and deletion keys are bindings, handled after typed characters that arrive with them:
        # clear the line, see it cleared, then type.
        term.keys(*(["Down"] if n else []), "Home", "C-k")
        wait(lambda n=lineno: code_line(term.screen(), n) == "", f"line {lineno} cleared", term.screen)
        term.type(line)
        wait(lambda n=lineno, text=line: code_line(term.screen(), n) == text, f"the fixed line {lineno}", term.screen)
    term.keys("Escape")
    wait(lambda: "x Reject" in footer(term.screen()), "the editor to let go of the keys", term.screen)
    wait(lambda: all(line in (db.step(ROW.id, "fixed_code") or "") for line in FIXED_LINES), "the fix to be saved")

    term.keys("r")  # run the fix
    wait(
        lambda: db.one("SELECT verdict FROM runs WHERE row_id = ? AND purpose = 'fix'", (ROW.id,)) == ("clean",),
        "the fix to run clean",
        term.screen,
    )
    term.keys("f")  # the replication (o) confirmed the bug already
    wait(lambda: db.step(ROW.id, "bug_confirmed") == 1 and db.step(ROW.id, "fixable") == 1, "bug confirmed, fixable")
    write_analysis_and_plan(term, db)
    term.keys("d")
    wait(
        lambda: db.one("SELECT status FROM rows WHERE row_id = ?", (ROW.id,)) == ("done",), "the row done", term.screen
    )
    term.keys("q")
    wait(lambda: not term.alive(), "nodefix to quit", term.screen)


ANALYSIS = "The script reads ./input/train.csv; the data is at ./data/."
PLAN = "Read the files from ./data/ instead."


def write_analysis_and_plan(term: Terminal, db: Db) -> None:
    """A done fixable row needs both texts: type them into the annotation pane's first two fields."""
    term.keys("5")
    term.wait_for("revised_analysis:", "the annotation pane")
    term.keys("Enter")  # the cursor in revised_analysis
    wait(lambda: "x Reject" not in footer(term.screen()), "revised_analysis to take the keys", term.screen)
    term.type(ANALYSIS)
    wait(lambda: db.step(ROW.id, "revised_analysis") == ANALYSIS, "the analysis to be saved", term.screen)
    term.keys("Tab")  # on to revised_plan
    term.type(PLAN)
    wait(lambda: db.step(ROW.id, "revised_plan") == PLAN, "the plan to be saved", term.screen)
    term.keys("Escape")
    wait(lambda: "x Reject" in footer(term.screen()), "the fields to let go of the keys", term.screen)


def footer(screen: str) -> str:
    """The key bar: single-letter keys show there only while no text field has the keys."""
    return screen.rstrip("\n").split("\n")[-1]


def code_line(screen: str, lineno: int) -> str | None:
    """The text of line ``lineno`` as the code editor shows it (the pane's border and scrollbar cut off)."""
    for row in screen.split("\n"):
        cells = row.strip("│").rstrip("▂▃▄▅▆▇█ ")
        if cells.startswith(f"{lineno:>2}  ") or cells == f"{lineno:>2}":
            return cells[4:]
    return None


def export_and_validate(dataset: Path, workspace: Path, tmp_path: Path, env: dict[str, str]) -> None:
    out = tmp_path / "deliverable.parquet"
    run_env = {**os.environ, **env}
    exported = subprocess.run(
        [NODEFIX, "export", str(dataset), "--workspace", str(workspace), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        env=run_env,
        check=False,
    )
    assert exported.returncode == 0, exported.stderr
    validated = subprocess.run(
        [NODEFIX, "validate", str(out), "--source", str(dataset)],
        capture_output=True,
        text=True,
        timeout=120,
        env=run_env,
        check=False,
    )
    assert validated.returncode == 0, validated.stdout + validated.stderr
    table = pq.read_table(out).to_pylist()
    ours = [r for r in table if r["id"] == ROW.id]
    assert len(ours) == 1
    assert "<|exception_sep|>" in ours[0]["cwm_analysis"]
    assert all(line in ours[0]["fixed_code"] for line in FIXED_LINES)


def kill_mid_typing(term: Terminal, db: Db) -> None:
    """Type words into revised_analysis, SIGKILL nodefix, and check what is saved."""
    # Reopens on the row and pane the first session ended on (the next row, the annotation pane).
    term.wait_for("row 2/14", "the next row, reopened where the last session left")
    term.wait_for("╭─ 5 annotation", "the pane the last session ended on")
    row_id = json.loads(db.one("SELECT value FROM ui_state WHERE key = 'last'")[0])["row"]
    term.keys("5")
    term.wait_for("revised_analysis:", "the annotation pane")
    term.keys("Enter")  # the cursor in the first field, revised_analysis
    wait(
        lambda: "x Reject" not in footer(term.screen()),
        "revised_analysis to take the keys (the reopened task view must answer keys)",
        term.screen,
    )
    typed = ""
    shown_at: list[tuple[float, str]] = []  # when each prefix was on screen
    started = time.monotonic()
    n = 0
    while time.monotonic() - started < 3.0:
        n += 1
        word = f"w{n:03d} "
        term.type(word)
        term.wait_for(word.strip(), f"{word.strip()} typed")
        typed += word
        shown_at.append((time.monotonic(), typed))
    os.kill(term.pid(), signal.SIGKILL)
    killed = time.monotonic()
    saved = db.step(row_id, "revised_analysis") or ""
    older = [text for at, text in shown_at if at <= killed - 1.0]
    assert older, "typing lasted more than a second"
    assert typed.startswith(saved), f"saved text is not what was typed: {saved!r}"
    assert saved.startswith(older[-1]), (
        f"lost what was typed more than a second before the kill: saved {len(saved)} chars, "
        f"{len(older[-1])} were typed by then"
    )
