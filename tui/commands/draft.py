"""``nodefix draft``: a cwm_analysis skeleton built from a step's trace (and its fix's trace, when there is one)."""

from __future__ import annotations

import argparse

from tui.commands._target import add_one_step_arguments, add_target_arguments

HELP = "draft cwm_analysis from the trace: quotes and placeholders"
ORDER = 62


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_target_arguments(parser)
    add_one_step_arguments(parser)
    parser.add_argument(
        "--write", action="store_true", help="save the draft as the step's cwm_analysis (only while it is empty)"
    )


def run(args: argparse.Namespace) -> int:
    from tracer_adapter.draft import draft_for_step
    from tui.commands._target import chosen_step, open_target
    from workspace.errors import InputError

    with open_target(args) as ws:
        args.step = chosen_step(ws, args)
        step = ws.step(args.row_id, args.step)
        text = draft_for_step(ws, step)
        if args.write:
            if step.cwm_analysis.strip():
                raise InputError(
                    f"row {args.row_id!r}, step {args.step}: cwm_analysis already holds text; "
                    "the draft is not written over it (clear it first, or paste from the printed draft)"
                )
            ws.update_step(args.row_id, args.step, cwm_analysis=text)
    print(text, end="")
    return 0
