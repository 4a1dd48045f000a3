#!/usr/bin/env python3
"""Figures on a million-row dataset, and that the 10,000-row ones did not get worse.

    python bench/bench_large.py [--rows 1000000] [--skip-tui] [--skip-huge-group] [--keep]

Builds, under ``bench/out/`` (git-ignored; deleted at the end unless --keep),
the files of ``bench/make_million.py``: synthetic rows and the demo's real rows,
65,536 rows per row group, plus one file of a single 1 GiB row group. Every
figure is one fresh child process (wall time, and its peak RSS from wait4):
opening the workspace and computing the queue's rows (headless), the app's
queue on screen under Pilot, ``nodefix show`` and ``annotate`` of one row by
its 8-character prefix when the workspace is created and once it exists,
``nodefix rows``, ``nodefix export``; the single 1 GiB row group exported in a
2 GiB memory cgroup (RLIMIT_AS where cgroups are not writable); and the
10,000-row open and first paint of this tree beside ``main``'s, in one run.
The machine may be shared: the load average is printed, compare ratios.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
TREE = HERE.parent
SHARED_GENERATOR = TREE.parent / "shared" / "bench" / "make_large_dataset.py"
NODEFIX = Path(sys.executable).with_name("nodefix")
GIB = 2**30
TARGETS = {  # seconds, bytes
    "open": (3.0, GIB),
    "tui": (3.0, GIB),
    "show created": (10.0, 1.5 * GIB),
    "show": (0.5, None),
    "annotate created": (10.0, 1.5 * GIB),
    "annotate": (0.5, None),
    "export": (30.0, 1.5 * GIB),
}

OPEN = """
import sys, time
started = time.monotonic()
from workspace.store import open_workspace
ws = open_workspace(sys.argv[1], sys.argv[2])
rows = ws.summaries()
print(time.monotonic() - started, len(rows))
"""

TUI = """
import asyncio, sys, time
started = time.monotonic()
from tui.app import NodefixApp
from workspace.config import Config
from workspace.store import open_workspace

async def main():
    app = NodefixApp(open_workspace(sys.argv[1], sys.argv[2]), Config(), theme="dark", cursor_blink=False)
    async with app.run_test(size=(80, 24)):
        while not (app.queue.is_mounted and app.queue.table.row_count > 0):
            if time.monotonic() - started > 120:
                raise SystemExit("no queue after 120 s")
            await asyncio.sleep(0.005)
        print(time.monotonic() - started)

asyncio.run(main())
"""

HUGE_EXPORT = """
import sys, time
started = time.monotonic()
from workspace.export import export_deliverable
from workspace.store import open_workspace
with open_workspace(sys.argv[1], sys.argv[2]) as ws:
    summary = export_deliverable(ws, sys.argv[3])
print(time.monotonic() - started, summary.rows)
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--skip-tui", action="store_true")
    parser.add_argument("--skip-huge-group", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the files under bench/out/")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
    try:
        for kind in ("synthetic", "demo"):
            dataset = make(f"{kind}-{args.rows}.parquet", "--rows", str(args.rows), "--kind", kind)
            million(dataset, args.skip_tui)
        if not args.skip_huge_group:
            huge_group()
        ten_thousand(args.skip_tui)
    finally:
        if not args.keep:
            shutil.rmtree(OUT, ignore_errors=True)
    print(f"load average {os.getloadavg()[0]:.1f} at the end", flush=True)
    return 0


def make(name: str, *options: str) -> Path:
    path = OUT / name
    if not path.exists():
        subprocess.run([sys.executable, str(HERE / "make_million.py"), str(path), *options], check=True)
    return path


def million(dataset: Path, skip_tui: bool) -> None:
    meta = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, pyarrow.parquet as pq; m = pq.ParquetFile(sys.argv[1]).metadata;"
            "print(m.num_rows, m.num_row_groups)",
            str(dataset),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    print(
        f"== {dataset.name}: {meta[0]} rows in {meta[1]} row groups, {dataset.stat().st_size / 2**20:.1f} MiB",
        flush=True,
    )
    workspace = dataset.with_suffix(".nodefix")
    shutil.rmtree(workspace, ignore_errors=True)
    row_id = python(
        "import sys, pyarrow.parquet as pq; t = pq.ParquetFile(sys.argv[1]).read(columns=['id']);"
        "print(t.column('id')[len(t) * 7 // 10].as_py())",
        dataset,
    ).strip()
    prefix = row_id[:8]
    timed("show created", [str(NODEFIX), "show", str(dataset), "--id", prefix])
    timed("show", [str(NODEFIX), "show", str(dataset), "--id", prefix])
    shutil.rmtree(workspace)
    timed("annotate created", [str(NODEFIX), "annotate", str(dataset), "--id", prefix, "--set", "revised_plan=p"])
    timed("annotate", [str(NODEFIX), "annotate", str(dataset), "--id", prefix, "--set", "revised_plan=q"])
    timed("open", [sys.executable, "-c", OPEN, str(dataset), str(workspace)], "open + the queue's rows (headless)")
    if not skip_tui:
        timed("tui", [sys.executable, "-c", TUI, str(dataset), str(workspace)], "open + queue on screen (Pilot 80x24)")
    timed("rows", [str(NODEFIX), "rows", str(dataset)], "nodefix rows (to a file)")
    out = OUT / "deliverable.parquet"
    timed("export", [str(NODEFIX), "export", str(dataset), "--out", str(out)])
    out.unlink(missing_ok=True)


def huge_group() -> None:
    """One row group of about 1 GiB of text, exported with 2 GiB of memory."""
    dataset = make("huge-group.parquet", "--rows", "65536", "--rows-per-group", "0", "--pad-kib", "16")
    print(
        f"== {dataset.name}: 65536 rows of 16 KiB code in one row group, {dataset.stat().st_size / 2**20:.0f} MiB",
        flush=True,
    )
    out = OUT / "huge-deliverable.parquet"
    code = [sys.executable, "-c", HUGE_EXPORT, str(dataset), str(dataset.with_suffix(".nodefix")), str(out)]
    timed("huge", code, "export of one 1 GiB row group in 2 GiB", memory_limit=2 * GIB)
    out.unlink(missing_ok=True)


def ten_thousand(skip_tui: bool) -> None:
    """This tree's 10,000-row open and first paint beside main's, alternating, best of three."""
    dataset = OUT / "ten-thousand.parquet"
    if not dataset.exists():
        subprocess.run(
            [sys.executable, str(SHARED_GENERATOR), str(dataset), "--rows", "10000"], check=True, capture_output=True
        )
    main_tree = OUT / "main-src"
    if not main_tree.exists():
        main_tree.mkdir()
        archive = subprocess.run(["git", "-C", str(TREE), "archive", "main"], capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(main_tree)], input=archive, check=True)
    print("== 10,000 rows: this tree beside main (best of 3, alternating)", flush=True)
    probes = [("open", OPEN)] + ([] if skip_tui else [("first paint", TUI)])
    for label, code in probes:
        best = {"this tree": float("inf"), "main": float("inf")}
        for _ in range(3):
            for tree_name, tree in (("this tree", TREE), ("main", main_tree)):
                workspace = Path(tempfile.mkdtemp(dir=OUT))
                python(code, dataset, workspace)  # creates the workspace; the next one reopens it
                seconds = float(python(code, dataset, workspace, tree=tree).split()[0])
                best[tree_name] = min(best[tree_name], seconds)
                shutil.rmtree(workspace)
        ratio = best["this tree"] / best["main"]
        print(
            f"{label:<44} this tree {best['this tree'] * 1000:7.0f} ms, main {best['main'] * 1000:7.0f} ms, "
            f"ratio {ratio:.2f}",
            flush=True,
        )


def python(code: str, *args: Path | str, tree: Path = TREE) -> str:
    env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True, check=True, env=env, cwd=tree
    ).stdout


# As on a user's machine, Python keeps the modules it compiled (CI and some shells turn that off): the command's
# own time, not compiling nodefix and its packages on each start. The first timed run writes the caches.
USER_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed(key: str, argv: list[str], label: str | None = None, memory_limit: int | None = None) -> None:
    """Run ``argv`` as a child; print its wall time and peak RSS against the targets."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        cgroup = _memory_cgroup(memory_limit) if memory_limit else None
        started = time.monotonic()
        child = subprocess.Popen(
            argv,
            stdout=out,
            stderr=err,
            cwd=TREE,
            env=USER_ENV,
            preexec_fn=_limit(memory_limit, cgroup) if memory_limit else None,
        )
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.monotonic() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        if cgroup is not None:
            cgroup.rmdir()
        err.seek(0)
        problem = err.read().decode(errors="replace").strip().splitlines()
    rss = usage.ru_maxrss * 1024
    wanted_s, wanted_rss = TARGETS.get(key, (None, None))
    verdicts = []
    if wanted_s is not None:
        verdicts.append(f"< {wanted_s:g} s {'ok' if seconds < wanted_s else 'MISSED'}")
    if wanted_rss is not None:
        verdicts.append(f"< {wanted_rss / GIB:g} GiB {'ok' if rss < wanted_rss else 'MISSED'}")
    if memory_limit:
        verdicts.append(f"within {memory_limit / GIB:g} GiB {'ok' if child.returncode == 0 else 'FAILED'}")
    failed = f"  exit {child.returncode}: {problem[-1] if problem else ''}" if child.returncode else ""
    target = f"  [{', '.join(verdicts)}]" if verdicts else ""
    cpu = usage.ru_utime + usage.ru_stime
    print(
        f"{label or key:<44} {seconds:7.2f} s (cpu {cpu:6.2f} s)  peak RSS {rss / 2**20:6.0f} MiB{target}{failed}",
        flush=True,
    )


def _memory_cgroup(limit: int) -> Path | None:
    """A cgroup-v1 memory group with ``limit`` (swap included where it can be set), or None if not writable."""
    root = Path("/sys/fs/cgroup/memory")
    group = root / f"nodefix-bench-{os.getpid()}"
    try:
        group.mkdir()
        (group / "memory.limit_in_bytes").write_text(str(limit))
        swap = group / "memory.memsw.limit_in_bytes"
        if swap.exists():
            swap.write_text(str(limit))
        return group
    except OSError:
        if group.exists():
            group.rmdir()
        return None


def _limit(limit: int, cgroup: Path | None):
    def enter() -> None:
        if cgroup is not None:
            (cgroup / "cgroup.procs").write_text(str(os.getpid()))
        else:
            import resource

            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return enter


if __name__ == "__main__":
    sys.exit(main())
