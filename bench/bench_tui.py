#!/usr/bin/env python3
"""The app's figures on the 10,000-row synthetic dataset.

    python bench/bench_tui.py [--rows 10000] [--no-tmux]

Builds the dataset with ``shared/bench/make_large_dataset.py`` in a temporary
folder, then measures, headless with Pilot at 80x24: the first paint of the
queue (workspace open + app start until the table is on screen), moving the
queue cursor, opening a row, and key-to-screen latency of pane switches, idle
and while a run floods output (a script printing as fast as it can). With
tmux, it also times the real ``nodefix open`` command from launch to the
queue on a terminal, cold (new workspace) and warm. Latencies are measured
from the key press to the change being in the composited screen, polling
every 5 ms, so they include up to 5 ms of polling.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MAKE_DATASET = Path(__file__).resolve().parents[2] / "shared" / "bench" / "make_large_dataset.py"
FLOOD = "import sys\nfor i in range(10**9):\n    sys.stdout.write(f'line {i} ' + 'x' * 60 + '\\n')\n"
SIZE = (80, 24)
POLL = 0.005
TARGETS = {"first paint": 1.0, "key": 0.1}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--make-dataset", type=Path, default=MAKE_DATASET)
    parser.add_argument("--no-tmux", action="store_true", help="skip timing the real command in tmux")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="nodefix-bench-tui-") as tmp:
        dataset = Path(tmp) / "large.parquet"
        subprocess.run(
            [sys.executable, str(args.make_dataset), str(dataset), "--rows", str(args.rows)],
            check=True,
            capture_output=True,
        )
        print(
            f"{args.rows} rows, {dataset.stat().st_size / 2**20:.1f} MiB parquet; load average "
            f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
        )
        if not args.no_tmux and shutil.which("tmux"):
            command_start(dataset, Path(tmp) / "cli-ws")
        asyncio.run(headless(dataset, Path(tmp)))
    return 0


def report(label: str, seconds: list[float] | float, target: float | None = None) -> None:
    values = seconds if isinstance(seconds, list) else [seconds]
    if len(values) == 1:
        figure = f"{values[0] * 1000:8.1f} ms"
    else:
        figure = (
            f"median {statistics.median(values) * 1000:6.1f} ms, p90 "
            f"{sorted(values)[int(len(values) * 0.9) - 1] * 1000:6.1f} ms, max {max(values) * 1000:6.1f} ms"
            f" (n={len(values)})"
        )
    verdict = ""
    if target is not None:
        verdict = f"  [target {target * 1000:.0f} ms: {'ok' if max(values) <= target else 'MISSED'}]"
    print(f"{label:<48} {figure}{verdict}", flush=True)


def command_start(dataset: Path, workspace: Path) -> None:
    """Launch to queue on screen for the installed command in a real terminal (tmux), cold then warm."""
    nodefix = Path(sys.executable).with_name("nodefix")
    for label in ("cold: new workspace", "warm: existing workspace"):
        session = f"nodefix-bench-{os.getpid()}"
        started = time.monotonic()
        subprocess.run(
            [
                "tmux",
                "new-session",
                "-d",
                "-s",
                session,
                "-x",
                "80",
                "-y",
                "24",
                f"{nodefix} open {dataset} --workspace {workspace}",
            ],
            check=True,
        )
        try:
            while time.monotonic() - started < 60:
                screen = subprocess.run(
                    ["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True, check=False
                ).stdout
                if "rejected 0 · left" in screen:
                    break
                time.sleep(POLL)
            report(f"nodefix open to queue on screen ({label})", time.monotonic() - started)
            subprocess.run(["tmux", "send-keys", "-t", session, "q"], check=True)
            while (
                subprocess.run(["tmux", "has-session", "-t", session], capture_output=True, check=False).returncode == 0
            ):
                if time.monotonic() - started > 90:
                    break
                time.sleep(0.05)
        finally:
            subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True, check=False)


def screen_text(app) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def until(predicate, timeout: float = 30.0) -> float:
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > timeout:
            raise TimeoutError("the app did not show the change in time")
        await asyncio.sleep(POLL)
    return time.monotonic() - started


async def key_latency(pilot, key: str, shown) -> float:
    """From the key event (as a terminal would send it) to ``shown()`` being true."""
    started = time.monotonic()
    pilot.app.simulate_key(key)
    await until(shown)
    return time.monotonic() - started


async def headless(dataset: Path, tmp: Path) -> None:
    from tui.app import NodefixApp
    from tui.screens.task import TaskScreen
    from workspace.config import Config
    from workspace.store import open_workspace

    started, cpu_started = time.monotonic(), time.process_time()
    ws = open_workspace(dataset, tmp / "ws")
    opened = time.monotonic() - started
    competitions = set(ws.dataset.column_values("competition_id"))
    app = NodefixApp(ws, Config(run=flood_settings(tmp, competitions)), theme="dark", cursor_blink=False)
    async with app.run_test(size=SIZE) as pilot:
        await until(lambda: app.queue.is_mounted and app.queue.table.row_count > 0 and "left" in screen_text(app))
        report("queue first paint (workspace open + app start)", time.monotonic() - started, TARGETS["first paint"])
        report("  the same in CPU time of this process", time.process_time() - cpu_started)
        loading = []
        while app.queue.table.row_count < len(ws.dataset) and len(loading) < 20:
            row = app.queue.table.cursor_row
            loading.append(await key_latency(pilot, "down", lambda row=row: app.queue.table.cursor_row == row + 1))
        if loading:
            report("  down arrow while the other rows are added", loading)
        await until(lambda: app.queue.table.row_count == len(ws.dataset))
        report("  every row in the table (added after the paint)", time.monotonic() - started)
        report("  of which opening the new workspace", opened)
        moves = []
        for _ in range(40):
            row = app.queue.table.cursor_row
            moves.append(await key_latency(pilot, "down", lambda row=row: app.queue.table.cursor_row == row + 1))
        report("queue: down arrow to the cursor moved", moves, TARGETS["key"])
        await pilot.press("pagedown", "pagedown")
        opens = []
        for _ in range(5):
            opens.append(
                await key_latency(
                    pilot, "enter", lambda: isinstance(app.screen, TaskScreen) and "row " in screen_text(app)
                )
            )
            await pilot.press("escape")
            await until(lambda: app.screen is app.queue)
            await pilot.press("down")
        report("open a row (enter to the task view on screen)", opens)
        await pilot.press("enter")
        await until(lambda: isinstance(app.screen, TaskScreen))
        task = app.screen
        report("pane switch, idle", await pane_switches(pilot, app, task), TARGETS["key"])
        ws.update_step(task.row_id, task.k, fixed_code=FLOOD)
        await pilot.press("r")
        log = task.output_pane.query_one("Log")
        await until(lambda: log.line_count > 1000)
        report("pane switch while a run floods output", await pane_switches(pilot, app, task), TARGETS["key"])
        lines = log.line_count
        await pilot.press("k")
        await until(lambda: not task.output_pane.running, timeout=30)
        print(f"{'  (the flood printed; the log kept)':<48} {lines} lines on screen's log at the end")
    ws.close()


async def pane_switches(pilot, app, task) -> list[float]:
    latencies = []
    for _ in range(4):
        for key, pane in (("1", "metadata"), ("2", "code"), ("5", "annotation"), ("3", "output")):
            latencies.append(
                await key_latency(
                    pilot, key, lambda key=key, pane=pane: task.pane == pane and f"{key} {pane}" in screen_text(app)
                )
            )
    return latencies


def flood_settings(tmp: Path, competitions: set[str]):
    """Run settings with a stand-in data folder for every competition, so the flood script can start."""
    from workspace.config import RunSettings

    data_root = tmp / "data"
    for competition in competitions:
        public = data_root / competition / "prepared" / "public"
        public.mkdir(parents=True, exist_ok=True)
        for name in ("train.csv", "test.csv", "sample_submission.csv"):
            (public / name).write_text("id,target\n1,0\n")
    return RunSettings(data_root=data_root, time_limit=60.0, memory_limit="4G")


if __name__ == "__main__":
    sys.exit(main())
