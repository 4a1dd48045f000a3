"""What a stored run proves about its step: the flag rules that the store applies and the checks re-read.

Pure functions over run records (``workspace.records.RunRecord``), so the
store, the done check and ``validate`` share one meaning of "replicated" and
"fixed".
"""

from __future__ import annotations

import hashlib

from workspace.records import RunRecord

FIXED_KINDS = ("clean", "time_limit")  # no error within the limit: the step's last bug is gone
BUG_KINDS = ("error", "no_submission", "killed")  # the script showed a bug
UNFINISHED_KINDS = ("environment", "cancelled")  # says nothing about the code
VALID_RUN_SECONDS = 360.0  # the contract: a run that goes 6 minutes without raising is not buggy
_CLOCK_SLACK = 1.0  # seconds a run stopped at a 6-minute limit may read short (timer granularity)


def code_sha256(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


def ran_without_error(record: RunRecord) -> bool:
    """The run ended clean, or went the contract's 6 minutes without raising (a shorter limit proves nothing)."""
    if record.kind == "time_limit":
        return record.duration + _CLOCK_SLACK >= VALID_RUN_SECONDS
    return record.kind == "clean"


def replication_confirms(record: RunRecord) -> bool | None:
    """What a run of a step's buggy code says of ``bug_confirmed``: True, False, or None (nothing)."""
    if record.kind in BUG_KINDS:
        return True
    if ran_without_error(record):
        return False
    return None


def replication_is_new_bug(record: RunRecord) -> bool:
    """The run failed with another error than the step's recorded one: its output becomes the bug to fix."""
    return record.kind in BUG_KINDS and record.match in ("different", "no_recorded")


def fix_verdict(verification: RunRecord | None, followed: bool) -> bool:
    """Whether a verifying run shows the step's bug gone.

    ``followed``: a debug step k+1 comes after this step, so the run must end
    in a new bug (another error than the step's own), which step k+1 takes up.
    For the last step the run must raise nothing within the limit.
    """
    if verification is None:
        return False
    if followed:
        return replication_is_new_bug(verification)
    return ran_without_error(verification)


def fix_outcome_problem(verification: RunRecord, followed: bool) -> str | None:
    """One line on why a verifying run does not prove the fix, or None when it does."""
    if fix_verdict(verification, followed):
        return None
    kind = verification.kind
    if followed:
        if kind in BUG_KINDS:
            return "its verifying run still fails with the step's own error"
        return f"its verifying run ended {kind!r}, but a next step needs it to end in a new error"
    if kind == "time_limit":
        return (
            f"its verifying run stopped at a {verification.duration:.0f} s time limit; it must run "
            f"{VALID_RUN_SECONDS / 60:.0f} minutes without raising (run it again with the full limit)"
        )
    return f"its verifying run ended {kind!r}, not clean or at the time limit"


def new_step_refusal(verification: RunRecord | None, fixed_code: str) -> str | None:
    """Why step k+1 cannot start from step k's fix, or None: it needs a run of that fix ending in a new error."""
    if not fixed_code.strip():
        return "it has no fixed code"
    if verification is None:
        return "its fix was never run (r, or nodefix run --code)"
    if verification.code_sha256 != code_sha256(fixed_code):
        return "its fix changed after the latest run of it; run the fix again"
    kind = verification.kind
    if kind in FIXED_KINDS:
        return f"its fix ran {kind.replace('_', ' ')}: there is no new error to start a step from"
    if kind not in BUG_KINDS:
        return f"the latest run of its fix ended {kind!r}, which shows no new error"
    if verification.match == "same":
        return "the latest run of its fix still fails with the step's own error"
    return None


def describe_flag_sources(sources: dict) -> str:
    """Who set each flag, for people: "bug confirmed by run #3 · bug fixed by hand (alice)"."""
    words = []
    for flag, source in sources.items():
        name = flag.replace("_", " ")
        if "run" in source:
            words.append(f"{name} by run #{source['run']}")
        elif "hand" in source:
            words.append(f"{name} by hand" + (f" ({source['hand']})" if source["hand"] else ""))
    return " · ".join(words)
