"""Build the bundled demo: competition data, the rows' recorded runs, the parquet and its settings.

Every row's ``_term_out`` is what its script really printed: each script runs
in the project's sandbox, with the network cut, under a small driver that
reproduces AIDE's interpreter output (``aide_driver.py``).

This is the one place in ``workspace`` that uses ``runner`` (to record the
runs); it imports it inside the functions that need it so that the data
layer itself stays free of it.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq
from platformdirs import user_data_path

from demo.catalogue import ROWS, DemoRow, final_exception
from demo.data_maker import COMPETITIONS, PUBLIC_FILES, competition_path, write_competition_data
from runner import aide_format
from workspace.config import PROJECT_FILE, RunSettings, load_config
from workspace.errors import InputError

if TYPE_CHECKING:
    from runner.spec import RunSpec

DATASET_NAME = "demo.parquet"
DATA_DIR_NAME = "data"
DEMO_TIME_LIMIT = 30  # seconds; the client's rule is 360
DRIVER_FILE = Path(__file__).resolve().parent / "aide_driver.py"
DRIVER_NAME = DRIVER_FILE.name
AIDE_FORMAT_FILE = Path(aide_format.__file__)  # the driver imports it, from beside itself in the sandbox
RESULT_NAME = "aide_result.json"
RESULT_MAX_BYTES = 64 * 1024 * 1024  # the driver writes the recorded output, already capped
SANDBOX_GRACE = 15.0  # extra seconds the sandbox allows beyond the driver's own limit
PARALLEL_RUNS = 4
# Runs go side by side; numeric libraries each starting a thread per core would starve one another.
SINGLE_THREADED_MATH = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("plan", pa.string()),
        ("competition_id", pa.string()),
        ("analysis", pa.string()),
        ("code", pa.string()),
        ("_term_out", pa.list_(pa.string())),
        ("exec_time", pa.float64()),
    ]
)

CONFIG_TEXT = f"""\
# Settings for the bundled demo (made by `nodefix demo`).
[run]
data_root = "{DATA_DIR_NAME}"
# Short for the demo; the client's rule is 360 seconds (6 minutes without an error counts as valid).
time_limit = {DEMO_TIME_LIMIT}
"""

Progress = Callable[[str], None]


@dataclass(frozen=True)
class DemoPaths:
    dataset: Path  # the demo parquet
    data_root: Path  # the competition data, MLE-bench cache layout
    config: Path  # nodefix.toml beside the parquet


@dataclass(frozen=True)
class RecordedRun:
    term_out: list[str]
    exec_time: float


def demo_paths(out_dir: Path) -> DemoPaths:
    out_dir = Path(out_dir).expanduser().resolve()
    return DemoPaths(out_dir / DATASET_NAME, out_dir / DATA_DIR_NAME, out_dir / PROJECT_FILE)


def build_demo(out_dir: Path, *, settings: RunSettings | None = None, progress: Progress | None = None) -> DemoPaths:
    """Write the demo into ``out_dir`` and return its paths.

    ``settings`` chooses the sandbox (backend, python); its data root and
    time limit are replaced by the demo's own. Raises InputError when the
    sandbox cannot run here, cannot cut the network, or a row's run did not
    end the way the catalogue says (e.g. the sandbox's python lacks pandas).
    """
    say = progress or (lambda line: None)
    paths = demo_paths(out_dir)
    base = settings or RunSettings()
    _check_sandbox(base)
    paths.data_root.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    write_competition_data(paths.data_root)
    say(f"wrote competition data for {len(COMPETITIONS)} competitions to {paths.data_root}")
    with tempfile.TemporaryDirectory(prefix="nodefix-demo-") as tmp:
        roots = {"current": paths.data_root}
        for snapshot in sorted({row.snapshot for row in ROWS} - {"current"}):
            roots[snapshot] = Path(tmp) / f"data-{snapshot}"
            write_competition_data(roots[snapshot], snapshot)
        recorded = _record_all(ROWS, base, roots, Path(tmp) / "runs", say)
    _write_parquet(paths.dataset, ROWS, recorded)
    _write_text_atomic(paths.config, CONFIG_TEXT)
    say(f"wrote {len(ROWS)} rows to {paths.dataset} in {time.monotonic() - started:.1f} s")
    return paths


def default_demo_dir() -> Path:
    return user_data_path("nodefix") / "demo"


def is_built(out_dir: Path) -> bool:
    """Whether ``out_dir`` holds a complete demo (parquet, settings, every competition's files)."""
    paths = demo_paths(out_dir)
    files = [paths.dataset, paths.config] + [
        competition_path(paths.data_root, c) / name for c in COMPETITIONS for name in PUBLIC_FILES
    ]
    return all(f.is_file() for f in files)


def ensure_demo(dir: Path | None = None, *, progress: Progress | None = None) -> Path:
    """The demo's dataset path, building the demo first (in the user's sandbox settings) if it is not there."""
    out_dir = Path(dir) if dir is not None else default_demo_dir()
    if not is_built(out_dir):
        build_demo(out_dir, settings=load_config().run, progress=progress)
    return demo_paths(out_dir).dataset


def _check_sandbox(settings: RunSettings) -> None:
    """Refuse to record runs in a sandbox that cannot run here or that would leave the network on."""
    from runner.backends import get_backend, namespace_prefix

    backend = get_backend(settings)
    problem = backend.check(settings)
    if problem is not None:
        raise InputError(f"cannot build the demo: the {backend.name} sandbox cannot run here: {problem}")
    if backend.name == "local" and not namespace_prefix():
        raise InputError(
            "cannot build the demo: the local sandbox cannot cut the network here "
            "(unshare --net fails), and recording the demo must not reach the internet; "
            "install bubblewrap or set run.backend"
        )


def _record_all(
    rows: tuple[DemoRow, ...], settings: RunSettings, roots: dict[str, Path], runs_dir: Path, say: Progress
) -> dict[str, RecordedRun]:
    finished: list[str] = []
    lock = threading.Lock()

    def record(row: DemoRow) -> tuple[DemoRow, RecordedRun]:
        run = _record(row, settings, roots[row.snapshot], runs_dir / row.name)
        ending = final_exception("".join(run.term_out)) or "no error"
        with lock:
            finished.append(row.name)
            say(f"recorded {len(finished)}/{len(rows)} {row.name}: {ending} ({run.exec_time:.1f} s)")
        return row, run

    with ThreadPoolExecutor(max_workers=PARALLEL_RUNS) as pool:
        # Rows with a short limit are the ones meant to run until it: start them first so they overlap the rest.
        ordered = sorted(rows, key=lambda r: r.time_limit)
        results = {row.name: run for row, run in pool.map(record, ordered)}
    for row in rows:
        _check_recorded(row, results[row.name])
    return results


def _record(row: DemoRow, settings: RunSettings, data_root: Path, run_dir: Path) -> RecordedRun:
    from runner.execute import execute
    from runner.untrusted import Refused, read_untrusted_text

    spec = generation_spec(row, settings, data_root, run_dir)
    result = execute(spec)
    try:
        data = json.loads(read_untrusted_text(spec.scratch / RESULT_NAME, RESULT_MAX_BYTES))
    except (OSError, ValueError, Refused) as exc:
        tail = " ".join(result.output_tail.split())[-300:]
        raise InputError(
            f"cannot build the demo: row {row.name!r}: the recording driver wrote no result "
            f"({exc}; {result.verdict.detail}; output: {tail})"
        ) from None
    return RecordedRun(term_out=list(data["term_out"]), exec_time=float(data["exec_time"]))


def generation_spec(row: DemoRow, settings: RunSettings, data_root: Path, run_dir: Path) -> RunSpec:
    """The sandbox run that records ``row``: the AIDE driver running the row's code."""
    from runner.spec import SCRIPT_NAME, RunSpec

    run_settings = dataclasses.replace(settings, data_root=data_root, time_limit=row.time_limit + SANDBOX_GRACE)
    return RunSpec(
        code=row.code,
        competition_id=row.competition_id,
        settings=run_settings,
        run_dir=run_dir,
        python_args=[DRIVER_NAME, SCRIPT_NAME, "--timeout", str(row.time_limit), "--result", RESULT_NAME],
        extra_files={DRIVER_NAME: DRIVER_FILE.read_bytes(), AIDE_FORMAT_FILE.name: AIDE_FORMAT_FILE.read_bytes()},
        env=SINGLE_THREADED_MATH,
        keep_files=(RESULT_NAME,),
    )


def _check_recorded(row: DemoRow, run: RecordedRun) -> None:
    """A run that ends otherwise than the catalogue says means this sandbox differs (e.g. no pandas)."""
    got = final_exception("".join(run.term_out))
    if got != row.recorded_exception:
        last = "".join(run.term_out).rstrip().splitlines()[-2:]
        raise InputError(
            f"cannot build the demo: row {row.name!r} should end with "
            f"{row.recorded_exception or 'no error'} but its run ended with {got or 'no error'}: "
            f"{' | '.join(last)} (the scripts need pandas and numpy in run.python)"
        )


def _write_parquet(path: Path, rows: tuple[DemoRow, ...], recorded: dict[str, RecordedRun]) -> None:
    table = pa.table(
        {
            "id": [row.id for row in rows],
            "plan": [row.plan for row in rows],
            "competition_id": [row.competition_id for row in rows],
            "analysis": [row.analysis for row in rows],
            "code": [row.code for row in rows],
            "_term_out": [recorded[row.name].term_out for row in rows],
            "exec_time": [recorded[row.name].exec_time for row in rows],
        },
        schema=SCHEMA,
    )
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        pq.write_table(table, tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _write_text_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
