"""How a run ended, in the annotation task's terms, and whether it shows the recorded bug again."""

from __future__ import annotations

import re
import signal as signals

from runner.tracebacks import parse_error, strip_ansi
from workspace.records import ErrorInfo, Verdict

_MAX_DETAIL = 200

# What the sandbox prints when it, not the script, failed: bubblewrap's own
# errors, Apptainer's FATAL log lines (padded to align the level names), a
# shell that cannot find the interpreter, an interpreter that cannot find the
# script. Read only from failed runs without a traceback.
_ENVIRONMENT_LINE = re.compile(
    r"^(bwrap: .*"
    r"|FATAL: {2,}.*"
    r"|.*(python[\d.]*|runfile\.py)['\"]?: (command )?not found.*"
    r"|.*(python[\d.]*|runfile\.py)['\"]?: No such file or directory.*"
    r"|.*python[\d.]*: can't open file .*)$",
    re.MULTILINE,
)
_NOT_RUNNABLE = (126, 127)  # the shell's "cannot execute" and "not found"

# A run that reaches the limit raised nothing, which the recorded outputs write as this error.
TIME_LIMIT_ERROR = ErrorInfo("TimeoutError", "Execution exceeded the time limit")


def classify(
    *,
    exit_code: int | None,
    signal: int | None,
    timed_out: bool,
    cancelled: bool,
    submission_written: bool,
    output: str,
    code: str,
    environment_error: str | None = None,
    recorded_output: str | None = None,
    cap_reached: str | None = None,
) -> Verdict:
    """The verdict for one finished run; ``match`` is set when ``recorded_output`` is given.

    ``cap_reached`` (e.g. "out of memory (memory_limit 512M)") makes a run that did not
    finish cleanly ``killed``, saying which cap ended it.
    """
    if cancelled:
        return Verdict("cancelled", "cancelled before it finished")
    error = parse_error(output, code)
    failed_silently = error is None and exit_code != 0 and not timed_out
    environment = environment_error or (_environment_failure(output, exit_code) if failed_silently else None)
    if environment:
        return Verdict("environment", _one_line(f"the sandbox failed: {environment}"))
    verdict = _verdict(exit_code, signal, timed_out, submission_written, error)
    if cap_reached and verdict.kind not in ("clean", "time_limit"):
        verdict = Verdict("killed", _one_line(f"{cap_reached}: {verdict.detail}"), verdict.error)
    if recorded_output is not None:
        observed = TIME_LIMIT_ERROR if verdict.kind == "time_limit" else verdict.error
        verdict.match = compare(observed, recorded_output, code)
        if verdict.kind == "time_limit" and verdict.match == "same":
            verdict.match = "time_limit"  # nothing raised: never "the same error"
    return verdict


def compare(observed: ErrorInfo | None, recorded_output: str | None, code: str) -> str:
    """``same`` (same exception type and failing line), ``different``, or ``no_recorded``.

    Lines compare by their text when both are known (the recorded output may
    come from a shifted copy of the code), else by number.
    """
    recorded = parse_error(recorded_output or "", code)
    if recorded is None:
        return "no_recorded"
    if observed is None or _short_type(observed.exc_type) != _short_type(recorded.exc_type):
        return "different"
    if observed.line_text is not None and recorded.line_text is not None:
        return "same" if observed.line_text == recorded.line_text else "different"
    return "same" if observed.lineno == recorded.lineno else "different"


MATCH_LABELS = {
    "same": "same error as recorded",
    "different": "different error from the recorded one",
    "time_limit": "reached the time limit, as the recorded run did (no error)",
    "no_recorded": "no recorded error to compare with",
}


def describe_match(match: str | None) -> str:
    """The words for a run's match against the recorded output ("" when there was nothing to compare)."""
    return MATCH_LABELS.get(match or "", match or "")


FIX_OUTCOMES = {
    "clean": "fix ran clean",
    "time_limit": "fix ran to the time limit without an error",
    "same": "fix still fails with the step's own error",
    "different": "fix ends in a new error (a next debug step: a)",
}


def describe_outcome(purpose: str, verdict: Verdict) -> str:
    """What a run's verdict says for its purpose: a fix run reads as a fix ("fix ran clean"), others as a match."""
    if purpose != "fix":
        return describe_match(verdict.match)
    kind = verdict.kind
    if kind in FIX_OUTCOMES:
        return FIX_OUTCOMES[kind]
    if kind in ("error", "no_submission", "killed"):
        return FIX_OUTCOMES["same" if verdict.match == "same" else "different"]
    return ""


def describe_error(error: ErrorInfo) -> str:
    """``"KeyError: 'x' at line 12"``."""
    text = f"{error.exc_type}: {error.message}" if error.message else error.exc_type
    text += f" at line {error.lineno}" if error.lineno is not None else ""
    return text + (f" (inner error: {error.cause})" if error.cause else "")


def _verdict(
    exit_code: int | None, signal: int | None, timed_out: bool, submission_written: bool, error: ErrorInfo | None
) -> Verdict:
    if timed_out:
        return Verdict("time_limit", "reached the time limit without raising")
    if exit_code == 0:
        if submission_written:
            return Verdict("clean", "exited 0 and wrote ./submission.csv")
        return Verdict("no_submission", "exited 0 without writing ./submission.csv")
    killer = signal if signal is not None else _signal_from_exit_code(exit_code, error)
    if killer is not None:
        return Verdict("killed", _killed_detail(killer))
    if error is not None:
        return Verdict("error", _one_line(describe_error(error)), error)
    return Verdict("error", f"exited with code {exit_code} without a traceback")


def _signal_from_exit_code(exit_code: int | None, error: ErrorInfo | None) -> int | None:
    """The signal a shell-style exit code (128 + n) or a negative one reports, if no traceback explains it."""
    if exit_code is None or error is not None:
        return None
    if exit_code < 0:
        return -exit_code
    if 128 < exit_code <= 128 + 64:
        return exit_code - 128
    return None


def _killed_detail(number: int) -> str:
    try:
        name = signals.Signals(number).name
    except ValueError:
        name = f"signal {number}"
    hint = " (often out of memory)" if number == signals.SIGKILL else ""
    return f"killed by {name}{hint}"


def _environment_failure(output: str, exit_code: int | None) -> str | None:
    match = _ENVIRONMENT_LINE.search(strip_ansi(output))
    if match:
        return match.group(0).strip()
    if exit_code in _NOT_RUNNABLE:
        return f"the interpreter could not be started (exit code {exit_code})"
    return None


def _short_type(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= _MAX_DETAIL else line[: _MAX_DETAIL - 1] + "…"
