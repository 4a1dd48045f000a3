"""The client's grading script, run as a configured command (an argv, never a shell), and its JSON result.

The default command is aira-dojo's
``python src/dojo/grade_code.py {code} {competition_id} {out}/results.jsonl``,
run from the client's checkout. It writes one JSON object with ``success``,
``exit_code``, ``timed_out``, ``exec_time``, ``valid_solution``,
``validation_fitness``, ``test_fitness``, ``error_output``, ``stdout`` and,
when grading ran, ``grading_report``; or ``{"error": ..., "success": false}``.
Whatever goes wrong after the command starts ends in such a dict, never in
an exception.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import threading
import time
from pathlib import Path
from string import Formatter

from runner.process_tree import ProcessTree
from runner.untrusted import Refused, read_untrusted_text
from workspace.competition import checked_competition_id
from workspace.config import GradeSettings
from workspace.errors import InputError

RESULTS_NAME = "results.jsonl"
LOG_NAME = "grade.log"
RESULTS_MAX_BYTES = 64 * 1024 * 1024  # grading_report and the graded run's output fit in far less
PLACEHOLDERS = ("code", "competition_id", "out")
DEFAULT_TIMEOUT = 4 * 3600 + 600.0  # grade_code.py's own default limit is 4 hours
_CANCEL_POLL = 0.2


def grade(
    code_path: Path,
    competition_id: str,
    settings: GradeSettings,
    out_dir: Path,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    cancel: threading.Event | None = None,
) -> dict:
    """Run the grade command on ``code_path`` and return its parsed result.

    The command must write ``out_dir/results.jsonl``; its own output goes to
    ``out_dir/grade.log``. The result gets a ``grader`` entry saying how the
    command ran. Raises InputError only for settings that cannot work.
    """
    argv = grade_command(settings, code_path, competition_id, out_dir)
    checkout = _checkout(settings)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / RESULTS_NAME).unlink(missing_ok=True)  # an older result must not pass for this one
    log_path = out_dir / LOG_NAME
    started = time.time()
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            argv,
            cwd=checkout,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        ending = _wait(process, timeout, cancel)
    result = parse_grade_result(out_dir / RESULTS_NAME)
    if ending != "finished":
        result = {"success": False, "error": f"the grade command was {ending} after {time.time() - started:.0f} s"}
    elif "error" in result and process.returncode != 0:
        result["error"] += f" (the grade command exited with code {process.returncode}; see {log_path})"
    result["grader"] = {
        "command": shlex.join(argv),
        "cwd": str(checkout),
        "returncode": process.returncode,
        "duration": round(time.time() - started, 3),
        "log_path": str(log_path),
    }
    return result


def grade_command(settings: GradeSettings, code_path: Path, competition_id: str, out_dir: Path) -> list[str]:
    """The command's argv: the template split as a shell would (``shlex.split``), then the placeholders filled in.

    A value always stays inside the one argument its placeholder was in, whatever it holds: no shell runs.
    """
    checked_competition_id(competition_id)
    try:
        template = shlex.split(settings.command)
        names = {name for part in template for _, name, _, _ in Formatter().parse(part) if name is not None}
    except ValueError as exc:
        raise InputError(f"setting grade.command: {exc} in {settings.command!r}") from None
    unknown = names - set(PLACEHOLDERS)
    if unknown:
        raise InputError(
            f"setting grade.command: unknown placeholder {{{sorted(unknown)[0]}}}; "
            f"known: {', '.join('{' + p + '}' for p in PLACEHOLDERS)}"
        )
    if not template:
        raise InputError("setting grade.command is empty")
    values = {"code": str(code_path), "competition_id": competition_id, "out": str(out_dir)}
    return [part.format(**values) for part in template]


def parse_grade_result(path: Path) -> dict:
    """The grade result in ``path``: the client's dict, or ``{"success": False, "error": ...}`` naming the problem.

    The client writes one indented JSON object despite the ``.jsonl`` name;
    a file of one object per line is read too (the last one counts).
    """
    try:
        text = read_untrusted_text(path, RESULTS_MAX_BYTES).strip()
    except FileNotFoundError:
        return _failure(f"{path}: no results file (the grade command wrote nothing)")
    except Refused as refused:
        return _failure(str(refused))
    except OSError as exc:
        return _failure(f"{path}: cannot read the results file ({exc.strerror})")
    if not text:
        return _failure(f"{path}: the results file is empty")
    try:
        result = json.loads(text)
    except json.JSONDecodeError as whole_error:
        try:
            result = json.loads(text.splitlines()[-1])
        except json.JSONDecodeError:
            return _failure(
                f"{path}: not JSON (line {whole_error.lineno} column {whole_error.colno}: {whole_error.msg})"
            )
    if not isinstance(result, dict) or not ({"success", "error"} & result.keys()):
        return _failure(f"{path}: not a grade result (expected an object with 'success' or 'error')")
    if "error" in result:
        return {**result, "success": False, "error": str(result["error"])}
    return result


def describe_grade(result: dict) -> str:
    """One line for people: how the grading went."""
    if "error" in result:
        return f"grading failed: {result['error']}"
    parts = ["valid solution" if result.get("valid_solution") else "not a valid solution"]
    if result.get("test_fitness") is not None:
        parts.append(f"test fitness {result['test_fitness']}")
    if result.get("validation_fitness") is not None:
        parts.append(f"validation fitness {result['validation_fitness']}")
    ran = "ran cleanly" if result.get("success") else f"run failed (exit code {result.get('exit_code')})"
    if result.get("timed_out"):
        ran = "run timed out"
    if isinstance(result.get("exec_time"), (int, float)):
        ran += f" in {result['exec_time']:.1f} s"
    return "graded: " + ", ".join([ran, *parts])


def _checkout(settings: GradeSettings) -> Path:
    if settings.checkout is None:
        raise InputError("setting grade.checkout is not set: give the folder of the client's aira-dojo checkout")
    if not Path(settings.checkout).is_dir():
        raise InputError(f"setting grade.checkout: {settings.checkout} is not a folder")
    return Path(settings.checkout)


def _wait(process: subprocess.Popen, timeout: float, cancel: threading.Event | None) -> str:
    """Wait for the command; on timeout, cancel or Ctrl-C end its whole process tree. Returns how it ended."""
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                process.wait(timeout=_CANCEL_POLL)
                return "finished"
            except subprocess.TimeoutExpired:
                pass
            if cancel is not None and cancel.is_set():
                ending = "cancelled"
                break
            if time.monotonic() >= deadline:
                ending = f"stopped at its time limit of {timeout:.0f} s"
                break
    except BaseException:
        ProcessTree(process.pid).terminate()
        raise
    ProcessTree(process.pid).terminate()
    process.wait()
    return ending


def _failure(error: str) -> dict:
    return {"success": False, "error": error}
