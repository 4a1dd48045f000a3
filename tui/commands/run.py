"""``nodefix run``: run one row's code (or a fix from a file) in the sandbox, store the run, print the verdict."""

from __future__ import annotations

import argparse
import json
import sys
import threading
from typing import TYPE_CHECKING

from tui.commands._target import add_step_arguments, add_target_arguments, add_time_limit_argument, chosen_step

if TYPE_CHECKING:
    from workspace.records import RunRecord
    from workspace.store import Step, Workspace

HELP = "run a row's code, its saved fix or a file; print the verdict"
ORDER = 50


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_target_arguments(parser)
    add_step_arguments(parser, "run this file as the step's fix: it is saved as the step's fixed_code first")
    parser.add_argument(
        "--fix",
        action="store_true",
        help="run the step's saved fixed_code as its fix (what r runs in the task view, what fix-paths --apply "
        "saves): the same verifying run as --code with that code",
    )
    parser.add_argument(
        "--backend",
        choices=("auto", "bubblewrap", "local", "apptainer"),
        help="sandbox backend (default: from the config, else auto)",
    )
    add_time_limit_argument(parser, "seconds before the run is ended")
    parser.add_argument("--json", action="store_true", help="print the stored run record as JSON")
    parser.add_argument("--quiet", action="store_true", help="do not stream the script's output")


def run(args: argparse.Namespace) -> int:
    from runner import bookkeeping
    from tui.commands._target import checked_time_limit, ctrl_c_sets, open_target, read_code_file
    from workspace.config import load_config
    from workspace.errors import InputError

    checked_time_limit(args)
    if args.fix and args.code is not None:
        raise InputError("give --fix (the step's saved fixed_code) or --code FILE, not both")
    fix = read_code_file(args.code, "run") if args.code is not None else None
    ws = open_target(args)
    try:
        args.step = chosen_step(ws, args)
        if args.fix:
            fix = _saved_fix(ws, args.row_id, args.step)
        purpose = "original" if fix is None else bookkeeping.FIX
        config = load_config(ws.dataset.path).with_overrides(
            run={"backend": args.backend, "time_limit": args.time_limit}
        )
        stream = sys.stderr if args.json else sys.stdout
        on_output = None if args.quiet else _writer(stream)
        cancel = threading.Event()
        with ctrl_c_sets(cancel):
            record, result = bookkeeping.run_and_record(
                ws, args.row_id, args.step, purpose, config.run, fix, on_output=on_output, cancel=cancel
            )
        if on_output is not None and result.output_tail and not result.output_tail.endswith("\n"):
            print(file=stream)
        if args.json:
            print(json.dumps(record.to_json(), indent=2))
        else:
            print(_verdict_line(record, ws.step(args.row_id, args.step)))
        return 1 if result.verdict.kind == "environment" else 0
    finally:
        ws.close()


def _saved_fix(ws: Workspace, row_id: str, k: int) -> str:
    """Step k's stored fixed_code, for --fix; one line when there is none."""
    from workspace.errors import InputError

    code = ws.step(row_id, k).fixed_code
    if not code.strip():
        raise InputError(
            f"row {row_id!r} step {k}: no fixed code saved to run with --fix "
            "(save one with fix-paths --apply or the task view's code pane, or run a file with --code FILE)"
        )
    return code


def _verdict_line(record: RunRecord, step: Step) -> str:
    from runner.verdict import describe_outcome
    from workspace.terminal_text import one_line
    from workspace.vocabulary import FLAG_FIELDS, flag_word

    verdict = record.verdict
    line = one_line(
        f"{step.row_id} step {step.index} ({record.purpose}) run {record.id}: {verdict.kind}: {verdict.detail}"
    )
    outcome = describe_outcome(record.purpose, verdict)
    if outcome:
        line += f" [{outcome}]"
    if verdict.starved:
        line += f" ({verdict.starved})"
    flags = ", ".join(f"{name} {flag_word(getattr(step, name))}" for name in FLAG_FIELDS)
    set_here = [name for name in FLAG_FIELDS if step.flag_sources.get(name) == {"run": record.id}]
    flags += f" (set by this run: {', '.join(set_here)})" if set_here else " (this run set no flag)"
    return f"{line} · {flags}\n  {record.duration:.1f} s, log {record.log_path}"


def _writer(stream):
    from workspace.terminal_text import neutralise

    def write(text: str) -> None:
        stream.write(neutralise(text, keep_carriage_return=True))
        stream.flush()

    return write
