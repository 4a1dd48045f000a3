"""Trace a step's code in the run sandbox and store the trace against its row, step and code.

Both tracers run through ``runner.execute`` exactly like a plain run, so the
script sees its data at ``./data`` and the same limits apply:

- the built-in tracer (``cwm_tracer.py``, copied into the scratch folder)
  writes the trace and its metadata to files, with the budgets of ``[trace]``;
- the client's tool (``trace.tracer = "client"``) is copied into the scratch
  folder, gets the code with its entry marker as ``code_to_trace.py``, and
  prints log lines then the trace; the trace is what follows the first
  ``<|frame_sep|>``.

The stored trace sits in the workspace's trace folder with its metadata, the
traced code (``<trace>.code.py``, so the index can number source lines) and
its index.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from runner.execute import execute
from runner.spec import SCRIPT_NAME, RunResult, RunSpec
from runner.untrusted import Refused, copy_untrusted, read_untrusted_text
from runner.verdict import describe_match
from tracer_adapter.client_tool import client_files, extract_trace
from tracer_adapter.entry import default_entry, marker_functions, with_marker
from tracer_adapter.trace_index import TraceIndex, code_path, index_path
from workspace.config import Config
from workspace.done_check import code_sha256
from workspace.errors import InputError
from workspace.records import TraceRecord
from workspace.sizes import parse_memory_limit

if TYPE_CHECKING:
    from workspace.store import Workspace

TRACERS = ("builtin", "client")
TRACER_FILE = Path(__file__).with_name("cwm_tracer.py")
TRACE_NAME = "cwm_trace.txt"  # written by the built-in tracer in the scratch folder
META_NAME = "cwm_trace_meta.json"
CLIENT_CODE_NAME = "code_to_trace.py"
TRACE_SLACK = 1024 * 1024  # the tracer stops at max_bytes after the record it is writing
META_MAX_BYTES = 1024 * 1024
CLIENT_MAIN = "main.py"


@dataclasses.dataclass
class _Traced:
    """A finished tracing run: the raw trace in the scratch folder and what we know about it."""

    result: RunResult
    trace: Path
    traced_code: str  # the code whose lines the trace shows, to number them
    meta: dict


def trace_step(
    ws: Workspace,
    config: Config,
    row_id: str,
    k: int,
    *,
    code: str | None = None,
    entry: str | None = "auto",
    on_output: Callable[[str], None] | None = None,
    cancel: threading.Event | None = None,
) -> TraceRecord:
    """Trace step ``k`` of a row (its buggy code, or ``code``) and store the trace; return the stored record.

    ``entry``: "auto" starts at the innermost function of the script in the
    recorded traceback (the whole script when there is none), None traces the
    whole script, a name starts at that function. The record's metadata holds
    the traced run's verdict (with ``match`` against the step's recorded output
    when the step's own code was traced) and its run folder.
    """
    if config.trace.tracer not in TRACERS:
        raise InputError(f"trace.tracer: unknown tracer {config.trace.tracer!r} (one of {', '.join(TRACERS)})")
    step = ws.step(row_id, k)
    traced = step.code if code is None else code
    if not traced.strip():
        raise InputError(f"row {row_id!r}, step {k}: there is no code to trace")
    entry = _chosen_entry(traced, entry, step.observed_output, row_id)
    recorded = step.observed_output if code is None else None
    competition = ws.source(row_id).competition_id
    run_dir = ws.run_dir(row_id, k)
    if config.trace.tracer == "client":
        done = _run_client(config, traced, entry, competition, run_dir, recorded, on_output, cancel)
    else:
        done = _run_builtin(config, traced, entry, competition, run_dir, recorded, on_output, cancel)
    return _store(ws, row_id, k, traced, entry, done)


def _chosen_entry(code: str, entry: str | None, recorded_output: str, row_id: str) -> str | None:
    if entry == "auto":
        return default_entry(code, recorded_output or None)
    if entry is not None and entry not in marker_functions(code):
        known = ", ".join(marker_functions(code)) or "none"
        raise InputError(f"row {row_id!r}: entry function {entry!r} is not defined in the code (functions: {known})")
    return entry


def _budget_flags(config: Config) -> list[str]:
    budgets = config.trace
    return [
        "--max-frames",
        str(budgets.max_frames),
        "--max-bytes",
        str(budgets.max_bytes),
        "--max-seconds",
        f"{budgets.max_seconds:g}",
        "--max-value-chars",
        str(budgets.max_value_chars),
    ]


def _run_builtin(
    config: Config,
    code: str,
    entry: str | None,
    competition: str,
    run_dir: Path,
    recorded: str | None,
    on_output: Callable[[str], None] | None,
    cancel: threading.Event | None,
) -> _Traced:
    args = [
        TRACER_FILE.name,
        SCRIPT_NAME,
        "--out",
        TRACE_NAME,
        "--meta",
        META_NAME,
        *_budget_flags(config),
        *(["--entry", entry] if entry else []),
    ]
    spec = RunSpec(
        code=code,
        competition_id=competition,
        settings=config.run,
        run_dir=run_dir,
        python_args=args,
        extra_files={TRACER_FILE.name: TRACER_FILE.read_bytes()},
        keep_files=(TRACE_NAME, META_NAME),
    )
    result = _execute(spec, on_output, cancel, recorded)
    trace = _take_trace(spec.scratch / TRACE_NAME, run_dir, config, result)
    tracer_meta = _read_json(spec.scratch / META_NAME)
    budgets = config.trace
    meta = {
        "tracer": "builtin",
        "tracer_meta": tracer_meta,
        "budgets": {
            "max_frames": budgets.max_frames,
            "max_bytes": budgets.max_bytes,
            "max_seconds": budgets.max_seconds,
            "max_value_chars": budgets.max_value_chars,
        },
    }
    return _Traced(result, trace, code, meta)


def _run_client(
    config: Config,
    code: str,
    entry: str | None,
    competition: str,
    run_dir: Path,
    recorded: str | None,
    on_output: Callable[[str], None] | None,
    cancel: threading.Event | None,
) -> _Traced:
    tool = config.trace.client_path
    if tool is None:
        raise InputError("trace.client_path: not set (the folder of the client's tracer, with main.py)")
    marked = with_marker(code, entry)
    files = client_files(Path(tool))
    files[CLIENT_CODE_NAME] = marked.encode("utf-8")
    settings = config.run
    if config.trace.client_python:
        settings = dataclasses.replace(settings, python=config.trace.client_python)
    # The tool's files sit in the scratch folder itself, so the traced code runs where ./data is.
    spec = RunSpec(
        code=code,
        competition_id=competition,
        settings=settings,
        run_dir=run_dir,
        python_args=[CLIENT_MAIN],
        extra_files=files,
    )
    result = _execute(spec, on_output, cancel, recorded)
    trace = run_dir / TRACE_NAME
    dropped = extract_trace(result.log_path, trace)
    if dropped is None:
        raise InputError(
            f"{tool}: the client's tracer printed no trace (no <|frame_sep|>; "
            f"{result.verdict.detail}); its output is in {result.log_path}"
        )
    meta = {
        "tracer": "client",
        "client_path": str(tool),
        "budgets": "the client tool's own (nodefix's trace budgets do not apply)",
        "log_bytes_dropped_before": dropped[0],
        "bytes_dropped_after": dropped[1],
    }
    # The whole script is traced through a wrapper that keeps the script's lines verbatim (one line
    # down), so the step's own code numbers them; a marked entry keeps every line where it was.
    return _Traced(result, trace, marked if entry is not None else code, meta)


def _execute(
    spec: RunSpec, on_output: Callable[[str], None] | None, cancel: threading.Event | None, recorded: str | None
) -> RunResult:
    result = execute(spec, on_output=on_output, cancel=cancel, recorded_output=recorded)
    if result.cancelled:
        raise InputError(f"{spec.run_dir}: tracing was cancelled; no trace was stored")
    return result


def _store(ws: Workspace, row_id: str, k: int, code: str, entry: str | None, done: _Traced) -> TraceRecord:
    sha = code_sha256(code)
    folder = ws.trace_dir(row_id, k)
    stem = f"{time.strftime('%Y%m%d-%H%M%S')}-{sha[:8]}"
    n = 1
    while (folder / f"{stem}-{n}.cwm").exists():
        n += 1
    trace_path = folder / f"{stem}-{n}.cwm"
    meta_path = folder / f"{stem}-{n}.meta.json"
    shutil.move(str(done.trace), trace_path)
    code_path(trace_path).write_text(done.traced_code, encoding="utf-8")
    with TraceIndex.open(trace_path) as index:
        exception = index.first_exception()
        summary = {
            "frames": index.frame_count,
            "lines": len(index),
            "bytes": index.size,
            "first_exception_line": exception,
        }
    verdict = dataclasses.asdict(done.result.verdict)
    meta = {
        **done.meta,
        **summary,
        "entry": entry,
        "cut": _was_cut(done.meta),
        "incomplete": _incomplete(done.meta, done.result),
        "run": {
            "run_dir": str(done.result.run_dir),
            "verdict": verdict,
            "duration": done.result.duration,
            "exit_code": done.result.exit_code,
        },
    }
    meta_path.write_text(json.dumps(meta, indent=2), encoding="utf-8")
    trace_id = ws.add_trace(
        row_id,
        k,
        code_sha256=sha,
        trace_path=trace_path,
        meta_path=meta_path,
        index_path=index_path(trace_path),
        meta=meta,
    )
    return next(t for t in ws.traces(row_id, k) if t.id == trace_id)


def summary_line(record: TraceRecord) -> str:
    """One line for people: size, whether it was cut, and how the traced run ended."""
    meta = record.meta
    cut = {True: "cut (see the metadata)", False: "complete", None: "cut or not: the client's tool does not say"}
    verdict = meta.run_verdict
    match = f", {describe_match(verdict.match)}" if verdict.match in ("same", "different") else ""
    state = f"incomplete: {meta.incomplete}" if meta.incomplete else cut[meta.cut]
    return (
        f"{meta.frames or 0:,} frames, {meta.lines or 0:,} lines, {meta.bytes or 0:,} bytes, {state}; "
        f"traced run: {verdict.detail}{match}"
    )


def _incomplete(meta: dict, result: RunResult) -> str | None:
    """Why the trace stops before the script did ("killed at the time limit after N frames"), or None."""
    tracer_meta = meta.get("tracer_meta")
    if tracer_meta is None or tracer_meta.get("complete") or not (result.timed_out or result.cancelled):
        return None
    when = "at the time limit" if result.timed_out else "when cancelled"
    frames = tracer_meta.get("frames_total", tracer_meta.get("frames_so_far"))
    after = f" after {frames:,} frames" if frames is not None else ""
    return f"killed {when}{after}"


def _was_cut(meta: dict) -> bool | None:
    """Whether the built-in tracer cut frames or stopped early (None for the client's tool, which does not say)."""
    tracer_meta = meta.get("tracer_meta")
    if tracer_meta is None:
        return None
    return bool(
        tracer_meta.get("frames_dropped") or tracer_meta.get("stopped_by_time") or tracer_meta.get("caps_fired")
    )


def _take_trace(path: Path, run_dir: Path, config: Config, result: RunResult) -> Path:
    """The trace copied out of scratch into a file of the host's, refused past ``max_bytes`` (plus slack) or as a
    symlink: the script shares the tracer's process and may have written anything there."""
    budget = config.trace.max_bytes
    cap = budget + TRACE_SLACK if budget else parse_memory_limit(config.run.scratch_limit, "run.scratch_limit")
    target = run_dir / TRACE_NAME
    target.unlink(missing_ok=True)
    try:
        copy_untrusted(path, target, cap)
    except FileNotFoundError:
        raise InputError(
            f"{run_dir}: the traced run wrote no trace ({result.verdict.detail}); its output is in {result.log_path}"
        ) from None
    except Refused as refused:
        raise InputError(f"{refused}; no trace was stored") from None
    return target


def _read_json(path: Path) -> dict:
    try:
        return json.loads(read_untrusted_text(path, META_MAX_BYTES))
    except (OSError, ValueError, Refused):
        return {}
