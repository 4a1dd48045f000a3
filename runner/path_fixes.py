"""Environment path fixes: the script looks for its data or writes its submission where the client's container does not.

The client's container has the data at ``./data/`` and wants ``./submission.csv``;
agent scripts often read ``./input/`` (or ``/kaggle/input/<name>/``) and write
``./working/submission.csv`` or ``./submission/submission.csv``. When a step's
error (a missing file under such a folder) or a ``no_submission`` verdict
matches, the proposal rewrites only the string literals holding those paths.
Nothing is applied here: callers show the diff and apply it on request.
"""

from __future__ import annotations

import difflib
import io
import re
import tokenize
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workspace.store import Workspace

DATA_DIR = "./data/"
SUBMISSION = "./submission.csv"
_INPUT_PATH = re.compile(r"^(?:/kaggle/input/[^/'\"]+/|\.\./input/|\./input/|input/)")
_INPUT_DIR = re.compile(r"^(?:/kaggle/input/[^/'\"]+|\.\./input|\./input)/?$")
_SUBMISSION_PATH = re.compile(r"^(?:\./)?(?:working|submission)/submission\.csv$")
_MISSING_INPUT = re.compile(r"(?:FileNotFoundError|No such file or directory).*input/", re.S)
_STRING_BODY = re.compile(r"^(?P<prefix>[rRuUbB]{0,2})(?P<quote>'''|\"\"\"|'|\")(?P<body>.*)(?P=quote)$", re.S)


@dataclass(frozen=True)
class PathFix:
    reason: str  # one line for people
    code: str  # the rewritten code
    diff: str  # unified diff of code -> rewritten code


def propose_path_fix(code: str, error_text: str, verdict_kind: str | None) -> PathFix | None:
    """The smallest rewrite of ``code``'s path literals that the error or verdict calls for, None if none applies."""
    reasons = []
    rules = []
    if _MISSING_INPUT.search(error_text or ""):
        reasons.append(f"reads its data from an input folder; the data is at {DATA_DIR}")
        rules.append(_input_rewrite)
    if verdict_kind == "no_submission":
        reasons.append(f"writes its submission elsewhere; the container wants {SUBMISSION}")
        rules.append(_submission_rewrite)
    if not rules:
        return None
    rewritten = _rewrite_strings(code, rules)
    if rewritten == code:
        return None
    diff = "".join(
        difflib.unified_diff(
            code.splitlines(keepends=True), rewritten.splitlines(keepends=True), "a/code.py", "b/code.py", n=1
        )
    )
    return PathFix("the script " + " and ".join(reasons), rewritten, diff)


def _input_rewrite(path: str) -> str | None:
    if _INPUT_DIR.match(path):
        return DATA_DIR.rstrip("/") + ("/" if path.endswith("/") else "")
    found = _INPUT_PATH.match(path)
    return DATA_DIR + path[found.end() :] if found else None


def _submission_rewrite(path: str) -> str | None:
    return SUBMISSION if _SUBMISSION_PATH.match(path) else None


def _rewrite_strings(code: str, rules: list) -> str:
    """``code`` with each plain string literal whose text a rule rewrites replaced (same quotes and prefix)."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(code).readline))
    except (tokenize.TokenError, SyntaxError):
        return code
    lines = code.splitlines(keepends=True)
    edits = []
    for token in tokens:
        if token.type != tokenize.STRING:
            continue
        parts = _STRING_BODY.match(token.string)
        if parts is None or "b" in parts["prefix"].lower() or "\\" in parts["body"]:
            continue
        for rule in rules:
            new = rule(parts["body"])
            if new is not None:
                edits.append((token.start, token.end, parts["prefix"] + parts["quote"] + new + parts["quote"]))
                break
    for (row, col), (end_row, end_col), text in reversed(edits):
        if row != end_row:
            continue
        line = lines[row - 1]
        lines[row - 1] = line[:col] + text + line[end_col:]
    return "".join(lines)


def step_path_fix(ws: Workspace, row_id: str, k: int) -> PathFix | None:
    """The proposal for a stored step, from its recorded output and its latest run of its own code.

    The rewrite starts from the step's fixed code when it has one (so an edit
    already made is kept), else from its code.
    """
    step = ws.step(row_id, k)
    own_runs = [r for r in ws.runs(row_id, k) if r.purpose != "fix"]
    latest = own_runs[-1] if own_runs else None
    if latest is None:
        error_text, kind = step.observed_output, None
    else:
        error_text, kind = "\n".join([step.observed_output, latest.output_tail, latest.verdict.detail]), latest.kind
    base = step.fixed_code if step.fixed_code.strip() else step.code
    return propose_path_fix(base, error_text, kind)
