"""``nodefix trace``: trace one step's code headless in the sandbox and store the trace."""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path

from tui.commands._target import add_step_arguments, add_target_arguments, add_time_limit_argument, chosen_step

HELP = "trace a row's code, or a fix, with the CWM tracer"
ORDER = 60


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_target_arguments(parser)
    add_step_arguments(parser, "trace this code (e.g. a fix) instead of the step's")
    parser.add_argument(
        "--entry",
        default="auto",
        metavar="FUNC|auto|script",
        help="where tracing starts: a function, 'auto' (the innermost script function in the "
        "recorded traceback; the default) or 'script' (the whole script)",
    )
    parser.add_argument("--out", type=Path, metavar="FILE", help="also copy the trace to FILE")
    add_time_limit_argument(parser, "seconds for the traced run (default: from the config)")


def run(args: argparse.Namespace) -> int:
    import shutil

    from tracer_adapter.adapter import summary_line, trace_step
    from tui.commands._target import checked_time_limit, ctrl_c_sets, open_target, read_code_file
    from workspace.config import load_config
    from workspace.errors import InputError

    code = read_code_file(args.code, "trace") if args.code is not None else None
    entry = None if args.entry == "script" else args.entry
    checked_time_limit(args)
    with open_target(args) as ws:
        args.step = chosen_step(ws, args)
        config = load_config(ws.dataset.path).with_overrides(run={"time_limit": args.time_limit})
        cancel = threading.Event()
        with ctrl_c_sets(cancel):
            record = trace_step(
                ws, config, args.row_id, args.step, code=code, entry=entry, on_output=_echo_to_stderr, cancel=cancel
            )
    print(f"trace: {record.trace_path}")
    print(f"metadata: {record.meta_path}")
    if args.out is not None:
        try:
            shutil.copyfile(record.trace_path, args.out)
        except OSError as exc:
            raise InputError(f"{args.out}: cannot write the trace copy ({exc.strerror})") from None
        print(f"copied to: {args.out}")
    print(summary_line(record))
    return 0


def _echo_to_stderr(text: str) -> None:
    from workspace.terminal_text import neutralise

    sys.stderr.write(neutralise(text, keep_carriage_return=True))
    sys.stderr.flush()
