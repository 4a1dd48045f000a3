"""A run's output written the way the row's recorded ``_term_out`` writes outputs.

A later debug step's ``_term_out`` is the output of a run in our sandbox, and
it should read like the rows the client already has: the script named
``runfile.py`` rather than by its sandbox path, and the closing line that
AIDE's interpreter adds (``Execution time: a moment seconds (time limit is
an hour).``, or ``TimeoutError: Execution exceeded the time limit of ...``)
when the recorded output has one.
"""

from __future__ import annotations

import re

from runner.aide_format import naturaldelta
from runner.spec import SCRIPT_NAME
from runner.tracebacks import strip_ansi

# Any absolute path of the script: /sandbox/work/runfile.py, /work/runfile.py, a local run's scratch folder.
_SANDBOX_SCRIPT = re.compile(r"/(?:[^\s\"':/]+/)*" + re.escape(SCRIPT_NAME) + r"\b")
_AIDE_CLOSING = re.compile(r"Execution time: .+? seconds \(time limit is .+?\)\.")
_AIDE_TIMEOUT = re.compile(r"TimeoutError: Execution exceeded the time limit of .+")


def output_as_recorded(output: str, recorded: str | None, *, seconds: float, time_limit: float, timed_out: bool) -> str:
    """``output`` with the script's paths as ``runfile.py`` and, if ``recorded`` closes so, AIDE's closing line."""
    text = _SANDBOX_SCRIPT.sub(SCRIPT_NAME, output)
    plain = strip_ansi(recorded or "")
    if not (_AIDE_CLOSING.search(plain) or _AIDE_TIMEOUT.search(plain)):
        return text
    if timed_out:
        closing = f"TimeoutError: Execution exceeded the time limit of {naturaldelta(time_limit)}"
    else:
        closing = f"Execution time: {naturaldelta(seconds)} seconds (time limit is {naturaldelta(time_limit)})."
    return text + closing
