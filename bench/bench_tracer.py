"""Built-in tracer vs plain Python vs pysnooper on ``trace_bench/``, side by side in one run.

    .venv/bin/python bench/bench_tracer.py [--bench-dir /work/shared/bench/trace_bench] [--repeat 1]

Needs numpy, pandas and scikit-learn (``pip install -e .[bench]``) and pysnooper
(the ``test`` extra). Each program runs in its own subprocess; the figures are
wall time and CPU time (user+sys of the child), as ratios to the plain run.
CPU ratios are the steadier figure on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TRACER = ROOT / "tracer_adapter" / "cwm_tracer.py"
DEFAULT_BENCH = Path("/work/shared/bench/trace_bench")


@dataclass
class Timing:
    wall: float
    cpu: float
    stdout: str


def timed(argv: list[str], cwd: Path, check: bool = True) -> Timing:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    process = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if check and process.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({process.returncode}):\n{process.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Timing(wall, cpu, process.stdout)


def best(argv: list[str], cwd: Path, repeat: int, output: Path | None = None, check: bool = True) -> Timing:
    """The run with the lowest CPU time; ``output`` (a file the program appends to) is removed first."""
    runs = []
    for _ in range(repeat):
        if output is not None:
            output.unlink(missing_ok=True)
        runs.append(timed(argv, cwd, check))
    return min(runs, key=lambda t: t.cpu)


def pysnooper_version(script: Path, log: Path) -> Path:
    """The same body under ``pysnooper.snoop`` with the same value-length cap."""
    body = textwrap.indent(script.read_text(), "    ")
    wrapped = script.with_name(f"{script.stem}_pysnooper.py")
    wrapped.write_text(f"import pysnooper\nwith pysnooper.snoop({str(log)!r}, max_variable_length=200):\n{body}")
    return wrapped


def size(path: Path) -> str:
    return f"{path.stat().st_size / 1e6:.1f} MB"


def row(label: str, timing: Timing, plain: Timing, extra: str = "") -> str:
    return (
        f"  {label:<10} wall {timing.wall:7.2f} s ({timing.wall / plain.wall:5.2f}x)   "
        f"cpu {timing.cpu:7.2f} s ({timing.cpu / plain.cpu:5.2f}x)  {extra}"
    )


def bench_script(work: Path, repeat: int) -> None:
    python = sys.executable
    trace, meta = work / "script.trace", work / "script.meta.json"
    plain = best([python, "script.py"], work, repeat)
    traced = best([python, str(TRACER), "script.py", "--out", str(trace), "--meta", str(meta)], work, repeat)
    snoop_log = work / "script.pysnooper.log"
    snooped = best([python, pysnooper_version(work / "script.py", snoop_log).name], work, repeat, snoop_log)
    assert traced.stdout == plain.stdout == snooped.stdout, "the traced runs printed something else"
    info = json.loads(meta.read_text())
    print("script.py (pandas + scikit-learn, module-level loop over 2,000 rows)")
    print(row("plain", plain, plain))
    print(
        row(
            "cwm_tracer",
            traced,
            plain,
            f"trace {size(trace)}, {info['frames_total']} frames, {info['values_cut']} values cut",
        )
    )
    print(row("pysnooper", snooped, plain, f"log {size(snoop_log)}"))


def bench_loop(work: Path, repeat: int) -> None:
    python = sys.executable
    trace, meta = work / "loop.trace", work / "loop.meta.json"
    plain = best([python, "loop.py"], work, repeat)
    traced = best([python, str(TRACER), "loop.py", "--out", str(trace), "--meta", str(meta)], work, repeat)
    assert traced.stdout == plain.stdout
    info = json.loads(meta.read_text())
    text = trace.read_text()
    lines = text.split("\n")
    first_ok = lines[0] == "<|frame_sep|><|call_sep|>{}<|action_sep|>def main():  # << START_OF_TRACE"
    last_ok = text.endswith(
        '<|return_sep|><|action_sep|>    return work(100000)\n<|arg_sep|>"(9999900000, 33334)"<|frame_sep|>'
    )
    print("loop.py (100,000 iterations appending to a list)")
    print(row("plain", plain, plain))
    print(row("cwm_tracer", traced, plain, f"trace {size(trace)}"))
    print(
        f"  frames: {info['frames_total']} seen, {info['frames_written']} kept "
        f"(first {info['first_kept']}, last {info['last_kept']}), caps fired: {info['caps_fired']}"
    )
    print(f"  first frame is main's call: {first_ok}; trace ends with main's final return: {last_ok}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bench-dir", type=Path, default=DEFAULT_BENCH)
    parser.add_argument("--repeat", type=int, default=1, help="runs per program; the lowest CPU time counts")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_tracer_") as folder:
        work = Path(folder)
        for name in ("script.py", "loop.py", "make_data.py"):
            shutil.copy(args.bench_dir / name, work / name)
        subprocess.run([sys.executable, "make_data.py"], cwd=work, check=True)
        print(
            f"python {sys.version.split()[0]}, tracer defaults (max_frames 20000, max_bytes 20 MB, "
            f"max_seconds 60, max_value_chars 200)"
        )
        bench_script(work, args.repeat)
        bench_loop(work, args.repeat)


if __name__ == "__main__":
    main()
