"""``nodefix fix-paths``: propose the data/submission path rewrite a step's error calls for; apply it only if asked."""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

from tui.commands._target import add_one_step_arguments, add_target_arguments

HELP = "propose the ./data, ./submission.csv path fix (--apply saves)"
ORDER = 64


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_target_arguments(parser)
    add_one_step_arguments(parser)
    parser.add_argument("--apply", action="store_true", help="save the rewritten code as the step's fixed code")
    parser.add_argument("--out", type=Path, metavar="FILE", help="also write the rewritten code to FILE")


def run(args: argparse.Namespace) -> int:
    from runner.path_fixes import step_path_fix
    from tui.commands._target import chosen_step, open_target
    from workspace.errors import InputError

    with open_target(args) as ws:
        args.step = chosen_step(ws, args)
        fix = step_path_fix(ws, args.row_id, args.step)
        if fix is None:
            print(
                f"row {args.row_id}, step {args.step}: no path fix applies (the error is not a missing ./input/ file "
                "and the verdict is not no_submission, or the code holds no such path)"
            )
            return 1
        print(fix.reason)
        print(fix.diff, end="")
        if args.out is not None:
            try:
                args.out.write_text(fix.code, encoding="utf-8")
            except OSError as exc:
                raise InputError(f"{args.out}: cannot write the rewritten code ({exc.strerror})") from None
        if args.apply:
            ws.update_step(args.row_id, args.step, fixed_code=fix.code)
            print(
                f"saved as the fixed code of row {args.row_id}, step {args.step}; run it to verify: "
                f"{_run_fix_command(args)}"
            )
        else:
            print("not applied (give --apply to save it as the step's fixed code)")
    return 0


def _run_fix_command(args: argparse.Namespace) -> str:
    """The ``nodefix run ... --fix`` that verifies the saved fix, ready to paste."""
    words = ["nodefix", "run", str(args.target)]
    if args.workspace is not None:
        words += ["--workspace", str(args.workspace)]
    words += ["--id", args.row_id, "--step", str(args.step), "--fix"]
    return shlex.join(words)
