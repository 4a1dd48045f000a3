"""``nodefix grade``: grade a step's fixed code with the client's grading script and keep the result."""

from __future__ import annotations

import argparse
import json

from tui.commands._target import add_step_arguments, add_target_arguments, chosen_step

HELP = "grade a step's fix with the client's grade command"
ORDER = 52


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_target_arguments(parser)
    add_step_arguments(parser, "grade this file instead of the step's fixed code")
    parser.add_argument("--timeout", type=float, metavar="S", help="seconds before the grade command is stopped")
    parser.add_argument("--json", action="store_true", help="print the whole result as JSON")


def run(args: argparse.Namespace) -> int:
    from runner.bookkeeping import grade_code
    from runner.grading import describe_grade
    from tui.commands._target import open_target, read_code_file
    from workspace.config import load_config
    from workspace.errors import InputError

    if args.timeout is not None and args.timeout <= 0:
        raise InputError(f"--timeout must be more than 0 seconds, not {args.timeout}")
    code = read_code_file(args.code, "grade") if args.code is not None else None
    ws = open_target(args)
    try:
        args.step = chosen_step(ws, args)
        step = ws.step(args.row_id, args.step)
        if code is None:
            code = step.fixed_code
            if not code.strip():
                raise InputError(f"row {args.row_id!r} step {args.step}: no fixed code yet; give --code FILE")
        config = load_config(ws.dataset.path)
        run_id, result = grade_code(ws, args.row_id, args.step, code, config.grade, timeout=args.timeout)
        print(json.dumps(result, indent=2) if args.json else f"run {run_id}: {describe_grade(result)}")
        return 0 if "error" not in result else 1
    finally:
        ws.close()
