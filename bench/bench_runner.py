"""Runner figures: time to the first line of output per backend against a bare run, and an output flood.

    .venv/bin/python bench/bench_runner.py [--repeats N] [--flood-mb M]

1. From asking ``execute`` for a run to the script's first line reaching
   ``on_output``, for the local and bubblewrap backends, measured side by side
   (interleaved) with a bare ``python script.py`` reading a pipe. Target: the
   nodefix path within 1.1x + 50 ms of the bare run.
2. A script printing ``--flood-mb`` MB: the reader's peak RSS (a fresh
   process that only runs ``execute``). Target: under 100 MB.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from runner.execute import execute  # noqa: E402
from runner.spec import RunSpec  # noqa: E402
from workspace.config import RunSettings  # noqa: E402

COMPETITION = "bench-competition"
FIRST_LINE_SCRIPT = "print('first line', flush=True)\n"
FLOOD_SCRIPT = """\
import sys
line = "x" * 1023 + "\\n"
block = line * 64
for _ in range({blocks}):
    sys.stdout.write(block)
print("done")
"""

# Runs in a fresh interpreter so that its peak RSS is the reader's own.
FLOOD_READER = """\
import json, resource, sys
from pathlib import Path
sys.path.insert(0, {root!r})
from runner.execute import execute
from runner.spec import RunSpec
from workspace.config import RunSettings
seen = [0]
def on_output(text):
    seen[0] += len(text)
settings = RunSettings(backend={backend!r}, data_root=Path({data_root!r}), time_limit=300)
spec = RunSpec(code={code!r}, competition_id={competition!r}, settings=settings, run_dir=Path({run_dir!r}))
result = execute(spec, on_output=on_output)
print(json.dumps({{"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "log_mb": result.log_path.stat().st_size / 1024**2, "chars_seen": seen[0],
                  "seconds": result.duration, "verdict": result.verdict.kind}}))
"""


def time_to_first_line_nodefix(backend: str, data_root: Path, work: Path) -> float:
    settings = RunSettings(backend=backend, data_root=data_root, time_limit=60)
    run_dir = Path(tempfile.mkdtemp(dir=work))
    spec = RunSpec(code=FIRST_LINE_SCRIPT, competition_id=COMPETITION, settings=settings, run_dir=run_dir)
    first: list[float] = []
    buffer: list[str] = []

    def on_output(text: str) -> None:
        buffer.append(text)
        if not first and "first line" in "".join(buffer):
            first.append(time.perf_counter())

    start = time.perf_counter()
    execute(spec, on_output=on_output)
    return first[0] - start


def time_to_first_line_bare(work: Path) -> float:
    script = work / "bare.py"
    script.write_text(FIRST_LINE_SCRIPT)
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, cwd=work)
    process.stdout.readline()
    elapsed = time.perf_counter() - start
    process.wait()
    process.stdout.close()
    return elapsed


def first_line_figures(repeats: int, data_root: Path, work: Path) -> None:
    backends = ["local", "bubblewrap"]
    times: dict[str, list[float]] = {"bare": [], **{b: [] for b in backends}}
    for backend in backends:  # warm the backend checks (cached for the process) and the file cache
        time_to_first_line_nodefix(backend, data_root, work)
    time_to_first_line_bare(work)
    for _ in range(repeats):
        times["bare"].append(time_to_first_line_bare(work))
        for backend in backends:
            times[backend].append(time_to_first_line_nodefix(backend, data_root, work))
    bare = statistics.median(times["bare"])
    print(f"time to first line (median of {repeats}, interleaved):")
    print(f"  bare python script.py      {bare * 1000:7.1f} ms")
    for backend in backends:
        median = statistics.median(times[backend])
        target = 1.1 * bare + 0.050
        verdict = "within" if median <= target else "OVER"
        print(f"  nodefix {backend:<18} {median * 1000:7.1f} ms  ratio {median / bare:4.2f}x  "
              f"(target {target * 1000:.1f} ms: {verdict})")


def flood_figures(megabytes: int, data_root: Path, work: Path) -> None:
    blocks = megabytes * 1024 // 64
    for backend in ["bubblewrap", "local"]:
        run_dir = Path(tempfile.mkdtemp(dir=work))
        probe = FLOOD_READER.format(root=str(ROOT), backend=backend, data_root=str(data_root),
                                    code=FLOOD_SCRIPT.format(blocks=blocks), competition=COMPETITION,
                                    run_dir=str(run_dir))
        done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        verdict = "under" if figures["peak_rss_mb"] < 100 else "OVER"
        print(f"output flood, {backend}: {figures['log_mb']:.0f} MB logged in {figures['seconds']:.1f} s "
              f"({figures['log_mb'] / figures['seconds']:.0f} MB/s), reader peak RSS "
              f"{figures['peak_rss_mb']:.1f} MB (target 100 MB: {verdict}), verdict {figures['verdict']}")
        (run_dir / "output.log").unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--flood-mb", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-runner-") as tmp:
        work = Path(tmp)
        data_root = work / "data"
        (data_root / COMPETITION / "prepared" / "public").mkdir(parents=True)
        first_line_figures(args.repeats, data_root, work)
        flood_figures(args.flood_mb, data_root, work)


if __name__ == "__main__":
    main()
