"""``nodefix grade``: grade a step's fixed code with the client's grading script and keep the result."""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from tui.commands._target import add_step_arguments, add_target_arguments, chosen_step

HELP = "grade a step's fix with the client's grade command"
ORDER = 52


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_target_arguments(parser)
    add_step_arguments(parser, "grade this file instead of the step's fixed code")
    parser.add_argument("--timeout", type=float, metavar="S", help="seconds before the grade command is stopped")
    parser.add_argument("--json", action="store_true", help="print the whole result as JSON")


def run(args: argparse.Namespace) -> int:
    from runner.grading import DEFAULT_TIMEOUT, describe_grade, grade
    from tui.commands._target import open_target, read_code_file
    from workspace.config import load_config
    from workspace.errors import InputError

    if args.timeout is not None and args.timeout <= 0:
        raise InputError(f"--timeout must be more than 0 seconds, not {args.timeout}")
    code = read_code_file(args.code, "grade") if args.code is not None else None
    ws = open_target(args)
    try:
        args.step = chosen_step(ws, args)
        row = ws.source(args.row_id)
        step = ws.step(args.row_id, args.step)
        if code is None:
            code = step.fixed_code
            if not code.strip():
                raise InputError(f"row {args.row_id!r} step {args.step}: no fixed code yet; give --code FILE")
        run_record = _latest_run_of(ws.runs(args.row_id, args.step), code)
        if run_record is None:
            raise InputError(
                f"row {args.row_id!r} step {args.step}: this code was never run, so there is no run "
                f"to attach the grade to; run it first (nodefix run)"
            )
        config = load_config(ws.dataset.path)
        out_dir = Path(tempfile.mkdtemp(prefix="grade-", dir=run_record["run_dir"]))
        code_path = out_dir / "code.py"
        code_path.write_text(code, encoding="utf-8")
        result = grade(code_path, row.competition_id, config.grade, out_dir, timeout=args.timeout or DEFAULT_TIMEOUT)
        ws.add_grade(run_record["id"], result)
        print(json.dumps(result, indent=2) if args.json else f"run {run_record['id']}: {describe_grade(result)}")
        return 0 if "error" not in result else 1
    finally:
        ws.close()


def _latest_run_of(runs: list[dict], code: str) -> dict | None:
    """The newest run whose script (kept in its run folder) is exactly ``code``."""
    from runner.spec import SCRIPT_NAME

    for run in reversed(runs):
        if not run.get("run_dir"):
            continue
        script = Path(run["run_dir"]) / "scratch" / SCRIPT_NAME
        try:
            if script.read_text(encoding="utf-8") == code:
                return run
        except (OSError, UnicodeDecodeError):
            continue
    return None
