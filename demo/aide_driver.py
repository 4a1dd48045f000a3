"""Run one script the way AIDE's process interpreter does, and save what it printed.

    python aide_driver.py runfile.py --timeout SECONDS --result RESULT.json

Stdlib only: this file (with ``runner/aide_format.py``) is copied into the sandbox beside the script. It
mirrors ``aide/interpreter.py`` (WecoAI/aideml): the code is compiled as
``runfile.py`` and exec'd with ``__name__ == "__main__"``, warnings are muted,
every write to stdout/stderr becomes one item of the output list, an exception
adds its traceback (without the interpreter's own frames) as one item, and the
last item is ``Execution time: ... seconds (time limit is ...).``. At the time
limit the script gets a KeyboardInterrupt (AIDE sends SIGINT), and the last
item is ``TimeoutError: Execution exceeded the time limit of ...`` instead.

RESULT.json gets ``{"term_out": [...], "exec_time": float, "exc_type": str | None}``.
The output is also echoed to the real stdout, so the sandbox's log shows it live.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
import traceback
import warnings

from aide_format import naturaldelta  # runner/aide_format.py, which the builder puts beside this file

AGENT_FILE_NAME = "runfile.py"


class OutputRecorder:
    """Stands in for sys.stdout and sys.stderr, as AIDE's RedirectQueue does."""

    def __init__(self, echo) -> None:
        self.items: list[str] = []
        self.echo = echo

    def write(self, msg: str) -> int:
        self.items.append(msg)
        self.echo.write(msg)
        self.echo.flush()
        return len(msg)

    def flush(self) -> None:
        self.echo.flush()


def exception_text(exc: BaseException) -> str:
    """The traceback as AIDE keeps it: frames of the interpreter itself (and importlib) left out."""
    own_file = f'"{os.path.abspath(__file__)}"'
    lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
    return "".join(line for line in lines if own_file not in line and "importlib" not in line)


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def run(script: str, timeout: float) -> dict:
    with open(script, encoding="utf-8") as f:
        code = f.read()
    warnings.filterwarnings("ignore")
    sys.path.append(os.getcwd())
    recorder = OutputRecorder(sys.__stdout__)
    sys.stdout = sys.stderr = recorder
    global_scope = {"__name__": "__main__", "__file__": AGENT_FILE_NAME, "__builtins__": __builtins__}
    exc_type = None
    signal.signal(signal.SIGALRM, _interrupt)
    start = time.time()
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        exec(compile(code, AGENT_FILE_NAME, "exec"), global_scope)
    except BaseException as exc:  # noqa: BLE001 - AIDE records every way a script ends
        signal.setitimer(signal.ITIMER_REAL, 0)
        recorder.write(exception_text(exc))
        exc_type = "TimeoutError" if isinstance(exc, KeyboardInterrupt) else type(exc).__name__
    signal.setitimer(signal.ITIMER_REAL, 0)
    exec_time = time.time() - start
    sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__
    if exc_type == "TimeoutError":
        last = f"TimeoutError: Execution exceeded the time limit of {naturaldelta(timeout)}"
    else:
        last = f"Execution time: {naturaldelta(exec_time)} seconds (time limit is {naturaldelta(timeout)})."
    recorder.write(last)
    return {"term_out": recorder.items, "exec_time": exec_time, "exc_type": exc_type}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("script")
    parser.add_argument("--timeout", type=float, required=True)
    parser.add_argument("--result", required=True)
    args = parser.parse_args()
    result_path = os.path.abspath(args.result)
    result = run(args.script, args.timeout)
    with open(result_path, "w", encoding="utf-8") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
