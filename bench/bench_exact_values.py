"""Tracer overhead with exact values, with and without content keys, vs the previous cache, as ratios to a plain run.

    .venv/bin/python bench/bench_exact_values.py [--bench-dir /work/shared/bench/trace_bench] [--repeat 1]
        [--base f4cc159] [--no-demo | --demo SCRIPT ...]

Programs (no time cap, so every tracer traces the whole run): ``trace_bench/script.py`` and the demo scripts (against a demo built
in a temporary folder), plus ``leaf_two_steps.py`` with its first bug fixed, a
pandas/numpy training loop of 200 steps. Tracers, each in its own subprocess with the default
budgets, side by side in one run:
- exact: ``tracer_adapter/cwm_tracer.py`` as it is: a stale rendering of an
  array, DataFrame or Series is reused while its content key is the same;
- no keys: the same file with ``Tracer(content_keys=False)`` (run through a
  small wrapper), so every object with its own ``__repr__`` is rendered again
  after any call or changing line;
- previous: the file at ``--base`` (git; default: the last tracer before exact
  values), whose cache could show stale values;
- floor: a settrace function that records nothing (a call event for every Python
  call anywhere, line events in the script's frames): what a settrace tracer
  costs on Python 3.11 before it renders a value, imports included. The exact
  tracer runs imports untraced (``ImportAhead``), so on an import-heavy script
  it can cost less than this floor.
CPU time (user+sys of the child) is the steadier figure on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_tracer import DEFAULT_BENCH, ROOT, TRACER, Timing, best

PREVIOUS = "f4cc159"  # the tracer whose cache of objects with their own __repr__ was not exact
# a pandas/numpy training loop: the demo script once its first bug is fixed (test.csv's column is "id")
TRAINING = ("leaf_two_steps.py", 'test.pop("Id")', 'test.pop("id")')
# the least a settrace tracer costs: a call event per Python call anywhere, line events in the script's frames
FLOOR = """import os, runpy, sys
script = os.path.abspath(sys.argv[1])
def local(frame, event, arg):
    return local
def global_trace(frame, event, arg):
    return local if frame.f_code.co_filename == script else None
sys.argv = [sys.argv[1]]
sys.settrace(global_trace)
runpy.run_path(script, run_name="__main__")
"""
NO_KEYS = """import functools, sys
sys.path.insert(0, {folder!r})
import cwm_tracer
cwm_tracer.Tracer = functools.partial(cwm_tracer.Tracer, content_keys=False)
sys.exit(cwm_tracer.main(sys.argv[1:]))
"""


def tracer_copies(folder: Path, base: str) -> dict[str, Path]:
    previous = folder / "cwm_tracer_previous.py"
    shown = subprocess.run(
        ["git", "show", f"{base}:tracer_adapter/cwm_tracer.py"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    previous.write_text(shown.stdout)
    no_keys = folder / "cwm_tracer_no_keys.py"
    no_keys.write_text(NO_KEYS.format(folder=str(TRACER.parent)))
    floor = folder / "settrace_floor.py"
    floor.write_text(FLOOR)
    return {"exact": TRACER, "no keys": no_keys, "previous": previous, "floor": floor}


def compare(label: str, script: Path, tracers: dict[str, Path], repeat: int, check: bool = True) -> None:
    work = script.parent
    python = sys.executable
    plain = best([python, script.name], work, repeat, check=check)
    print(f"{label}: plain wall {plain.wall:.2f} s, cpu {plain.cpu:.2f} s")
    for name, tracer in tracers.items():
        out, meta = work / f"{script.stem}.{name}.trace", work / f"{script.stem}.{name}.meta.json"
        # no time cap: on a loaded machine it would stop tracing early and make the runs incomparable
        argv = [python, str(tracer), script.name, "--out", str(out), "--meta", str(meta), "--max-seconds", "0"]
        timing: Timing = best(
            argv if name != "floor" else [python, str(tracer), script.name], work, repeat, check=check
        )
        written = (
            f"trace {out.stat().st_size / 1e6:.1f} MB, {json.loads(meta.read_text()).get('frames_total', '?')} frames"
            if name != "floor"
            else "no trace"
        )
        print(
            f"  {name:<9} wall {timing.wall:7.2f} s ({timing.wall / plain.wall:5.2f}x)   "
            f"cpu {timing.cpu:7.2f} s ({timing.cpu / plain.cpu:5.2f}x)   {written}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bench-dir", type=Path, default=DEFAULT_BENCH)
    parser.add_argument("--repeat", type=int, default=1, help="runs per program; the lowest CPU time counts")
    parser.add_argument("--base", default=PREVIOUS, help=f"git revision of the previous tracer (default: {PREVIOUS})")
    parser.add_argument("--no-demo", action="store_true", help="only trace_bench/script.py")
    parser.add_argument("--demo", action="append", default=[], help="only this demo script (repeatable)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from demo import build_demo
    from demo.catalogue import ROWS, SCRIPTS

    with tempfile.TemporaryDirectory(prefix="bench_exact_") as folder:
        work = Path(folder)
        tracers = tracer_copies(work, args.base)
        bench = work / "trace_bench"
        bench.mkdir()
        for name in ("script.py", "make_data.py"):
            (bench / name).write_bytes((args.bench_dir / name).read_bytes())
        subprocess.run([sys.executable, "make_data.py"], cwd=bench, check=True, capture_output=True)
        print(f"python {sys.version.split()[0]}, default budgets; a shared, loaded machine: compare within a row")
        compare("trace_bench/script.py", bench / "script.py", tracers, args.repeat)
        if args.no_demo:
            return
        demo = build_demo(work / "demo")
        runnable = {row.script: row for row in ROWS if row.rerun_verdict in ("clean", "error", "no_submission")}
        for script_name, row in sorted(runnable.items()):
            if row.rerun_exception == "SyntaxError" or (args.demo and script_name not in args.demo):
                continue
            folder_of_row = work / row.name
            folder_of_row.mkdir()
            (folder_of_row / script_name).write_bytes((SCRIPTS / script_name).read_bytes())
            (folder_of_row / "data").symlink_to(demo.data_root / row.competition_id / "prepared" / "public")
            # most demo scripts end raising (that is what they are for): timed all the same
            compare(f"demo {script_name}", folder_of_row / script_name, tracers, args.repeat, check=False)
            if script_name == TRAINING[0]:
                fixed = folder_of_row / f"fixed_{script_name}"
                fixed.write_text((SCRIPTS / script_name).read_text().replace(*TRAINING[1:]))
                compare(f"demo {script_name}, first bug fixed (trains)", fixed, tracers, args.repeat, check=False)


if __name__ == "__main__":
    main()
