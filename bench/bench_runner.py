"""Runner figures: time to the first line of output per backend against a bare run, and an output flood.

    .venv/bin/python bench/bench_runner.py [--repeats N] [--flood-mb M]

1. From asking ``execute`` for a run to the script's first line reaching
   ``on_output``, for the local and bubblewrap backends, measured side by side
   (interleaved) with a bare ``python script.py`` reading a pipe. Target: the
   nodefix path within 1.1x + 50 ms of the bare run.
2. The hardened bubblewrap sandbox (user namespace, no capabilities, as root
   started as nobody through a staging bwrap) against the command line it
   replaced, side by side; the cost of making and removing a run's cgroups;
   and replication throughput (runs per second, two at a time) with each.
   Target: at most 20 ms more per run.
3. A script printing ``--flood-mb`` MB: the reader's peak RSS (a fresh
   process that only runs ``execute``). Target: under 100 MB.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from runner import backends  # noqa: E402
from runner.backends import get_backend  # noqa: E402
from runner.cgroups import RunCgroups  # noqa: E402
from runner.execute import execute  # noqa: E402
from runner.spec import SCRIPT_NAME, RunSpec  # noqa: E402
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
    return _first_line_through_a_pipe([sys.executable, str(script)], work, None)


def time_to_first_line_sandbox_only(backend: str, data_root: Path, work: Path) -> float:
    """The backend's own command line started bare (subprocess, pipe): what the sandbox alone costs."""
    spec, sandbox = _prepared_spec(backend, data_root, work)
    return _first_line_through_a_pipe(sandbox.command(spec), spec.scratch, sandbox.host_env(spec))


def _first_line_through_a_pipe(command: list[str], cwd: Path, env: dict[str, str] | None) -> float:
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, cwd=cwd, env=env)
    process.stdout.readline()
    elapsed = time.perf_counter() - start
    process.wait()
    process.stdout.close()
    return elapsed


def first_line_figures(repeats: int, data_root: Path, work: Path) -> None:
    backends = ["local", "bubblewrap"]
    measures = {"bare python script.py": lambda: time_to_first_line_bare(work)}
    for backend in backends:
        measures[f"{backend} command alone"] = functools.partial(
            time_to_first_line_sandbox_only, backend, data_root, work
        )
        measures[f"nodefix {backend}"] = functools.partial(time_to_first_line_nodefix, backend, data_root, work)
    for measure in measures.values():  # warm the backend checks (cached per process) and the file cache
        measure()
    times: dict[str, list[float]] = {name: [] for name in measures}
    for _ in range(repeats):
        for name, measure in measures.items():
            times[name].append(measure())
    bare = statistics.median(times["bare python script.py"])
    target = 1.1 * bare + 0.050
    print(
        f"time to first line (median of {repeats}, interleaved; load average {os.getloadavg()[0]:.1f} "
        f"on {os.cpu_count()} cores):"
    )
    for name, values in times.items():
        median = statistics.median(values)
        line = f"  {name:<24} {median * 1000:7.1f} ms  ratio {median / bare:4.2f}x  min {min(values) * 1000:6.1f} ms"
        if name.startswith("nodefix"):
            line += f"  (target {target * 1000:.1f} ms: {'within' if median <= target else 'OVER'})"
        print(line)


def legacy_bubblewrap_command(spec: RunSpec) -> list[str]:
    """The bwrap command line before the hardening: no user namespace, capabilities kept, run as the caller."""
    python = sys.executable
    argv = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session", *backends._bwrap_system()]
    argv += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
    argv += [arg for bind in backends._bwrap_binds(spec, python) for arg in bind.args()]
    argv += ["--remount-ro", "/", "--chdir", backends.BWRAP_WORKDIR, *backends._bwrap_environment(spec, python)]
    return [*argv, "--", python, SCRIPT_NAME]


def _prepared_spec(backend: str, data_root: Path, work: Path) -> tuple[RunSpec, backends.Backend]:
    """A run's scratch laid out for ``backend`` as ``execute`` would, without running it."""
    settings = RunSettings(backend=backend, data_root=data_root, time_limit=60, memory_limit="2G")
    spec = RunSpec(
        code=FIRST_LINE_SCRIPT, competition_id=COMPETITION, settings=settings, run_dir=Path(tempfile.mkdtemp(dir=work))
    )
    spec.scratch.mkdir(parents=True)
    (spec.scratch / SCRIPT_NAME).write_text(FIRST_LINE_SCRIPT)
    sandbox = get_backend(settings)
    sandbox.prepare(spec)
    return spec, sandbox


def hardening_figures(repeats: int, data_root: Path, work: Path) -> None:
    spec, sandbox = _prepared_spec("bubblewrap", data_root, work)
    commands = {
        "before (legacy bwrap)": legacy_bubblewrap_command(spec),
        "after (hardened bwrap)": sandbox.command(spec),
    }
    env = sandbox.host_env(spec)
    for command in commands.values():
        _first_line_through_a_pipe(command, spec.scratch, env)  # warm
    times: dict[str, list[float]] = {name: [] for name in commands}
    cgroup_times: list[float] = []
    for _ in range(repeats):
        for name, command in commands.items():
            times[name].append(_first_line_through_a_pipe(command, spec.scratch, env))
        start = time.perf_counter()
        RunCgroups.create(64, 2 * 1024**3).remove()
        cgroup_times.append(time.perf_counter() - start)
    before = statistics.median(times["before (legacy bwrap)"])
    after = statistics.median(times["after (hardened bwrap)"])
    cgroups = statistics.median(cgroup_times)
    print(f"sandbox hardening (median of {repeats}, interleaved; load average {os.getloadavg()[0]:.1f}):")
    for name, values in times.items():
        print(f"  {name:<24} {statistics.median(values) * 1000:7.1f} ms to first line")
    print(f"  run cgroups (pids + memory), made and removed: {cgroups * 1000:.1f} ms")
    added = after - before + cgroups
    print(f"  added per run: {added * 1000:.1f} ms (target 20 ms: {'within' if added <= 0.020 else 'OVER'})")
    for name, command in commands.items():
        start = time.perf_counter()
        runs = max(repeats, 8)
        with ThreadPoolExecutor(max_workers=2) as pool:
            list(pool.map(_first_line_through_a_pipe, [command] * runs, [spec.scratch] * runs, [env] * runs))
        print(f"  replication throughput, {name}, 2 at a time: {runs / (time.perf_counter() - start):.1f} runs/s")


def flood_figures(megabytes: int, data_root: Path, work: Path) -> None:
    blocks = megabytes * 1024 // 64
    for backend in ["bubblewrap", "local"]:
        run_dir = Path(tempfile.mkdtemp(dir=work))
        probe = FLOOD_READER.format(
            root=str(ROOT),
            backend=backend,
            data_root=str(data_root),
            code=FLOOD_SCRIPT.format(blocks=blocks),
            competition=COMPETITION,
            run_dir=str(run_dir),
        )
        done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        verdict = "under" if figures["peak_rss_mb"] < 100 else "OVER"
        print(
            f"output flood, {backend}: {figures['log_mb']:.0f} MB logged in {figures['seconds']:.1f} s "
            f"({figures['log_mb'] / figures['seconds']:.0f} MB/s), reader peak RSS "
            f"{figures['peak_rss_mb']:.1f} MB (target 100 MB: {verdict}), verdict {figures['verdict']}"
        )
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
        hardening_figures(args.repeats, data_root, work)
        flood_figures(args.flood_mb, data_root, work)


if __name__ == "__main__":
    main()
