"""``nodefix run``: run one row's code (or a fix from a file) in the sandbox, store the run, print the verdict."""

from __future__ import annotations

import argparse
import json
import sys
import threading

from tui.commands._target import add_step_arguments, add_target_arguments, chosen_step

HELP = "run a row's code, or a fix from a file, and print the verdict"
ORDER = 50


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_target_arguments(parser)
    add_step_arguments(parser, "run this file instead, stored as a fix of the step")
    parser.add_argument(
        "--backend",
        choices=("auto", "bubblewrap", "local", "apptainer"),
        help="sandbox backend (default: from the config, else auto)",
    )
    parser.add_argument("--time-limit", type=float, metavar="S", help="seconds before the run is ended")
    parser.add_argument("--json", action="store_true", help="print the stored run record as JSON")
    parser.add_argument("--quiet", action="store_true", help="do not stream the script's output")


def run(args: argparse.Namespace) -> int:
    from runner.execute import execute
    from runner.spec import RunSpec
    from tui.commands._target import ctrl_c_sets, open_target, read_code_file
    from workspace.config import load_config
    from workspace.errors import InputError

    if args.time_limit is not None and args.time_limit <= 0:
        raise InputError(f"--time-limit must be more than 0 seconds, not {args.time_limit}")
    fix = read_code_file(args.code, "run") if args.code is not None else None
    ws = open_target(args)
    try:
        args.step = chosen_step(ws, args)
        row = ws.source(args.row_id)
        step = ws.step(args.row_id, args.step)
        if fix is None:
            purpose, code = "original", step.code
            recorded = row.term_out if args.step == 0 else step.observed_output
        else:
            purpose, code, recorded = "fix", fix, None
        config = load_config(ws.dataset.path).with_overrides(
            run={"backend": args.backend, "time_limit": args.time_limit}
        )
        spec = RunSpec(
            code=code,
            competition_id=row.competition_id,
            settings=config.run,
            run_dir=ws.run_dir(args.row_id, args.step),
        )
        stream = sys.stderr if args.json else sys.stdout
        on_output = None if args.quiet else _writer(stream)
        cancel = threading.Event()
        with ctrl_c_sets(cancel):
            result = execute(spec, on_output=on_output, cancel=cancel, recorded_output=recorded)
        record = result.to_record()
        run_id = ws.add_run(args.row_id, args.step, purpose, record)
        if on_output is not None and result.output_tail and not result.output_tail.endswith("\n"):
            print(file=stream)
        if args.json:
            print(json.dumps({"id": run_id, "purpose": purpose, **record}, indent=2))
        else:
            print(_verdict_line(args.row_id, args.step, purpose, run_id, record))
        return 1 if result.verdict.kind == "environment" else 0
    finally:
        ws.close()


def _verdict_line(row_id: str, k: int, purpose: str, run_id: int, record: dict) -> str:
    from runner.verdict import describe_match

    verdict = record["verdict"]
    line = f"{row_id} step {k} ({purpose}) run {run_id}: {verdict['kind']}: {verdict['detail']}"
    if verdict.get("match"):
        line += f" [{describe_match(verdict['match'])}]"
    return f"{line}\n  {record['duration']:.1f} s, log {record['log_path']}"


def _writer(stream):
    def write(text: str) -> None:
        stream.write(text)
        stream.flush()

    return write
