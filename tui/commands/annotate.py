"""``nodefix annotate``: change a row's annotation without the TUI (fields, flags, status, steps, undo)."""

from __future__ import annotations

import argparse
from pathlib import Path

from tui.commands._target import STEP_HELP, add_id_argument, add_target_arguments
from workspace.errors import InputError
from workspace.vocabulary import (
    FLAG_FIELDS,
    REJECT_REASONS,
    SOURCE_FIELDS_NOT_EDITED,
    STEP_SOURCE_FIELDS,
    TEXT_FIELDS,
)

HELP = "set fields and flags, reject, mark done, add a step, undo"
ORDER = 32

_YES = ("yes", "true", "1")
_NO = ("no", "false", "0")
_UNDECIDED = ("undecided", "")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_target_arguments(parser)
    add_id_argument(parser)
    parser.add_argument("--step", type=int, metavar="K", help=STEP_HELP + ", after --new-step")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help=f"set a field: {', '.join(TEXT_FIELDS + FLAG_FIELDS)}; flags take yes/no and are then "
        "'set by hand' (a later run that decides the flag sets it again)",
    )
    parser.add_argument(
        "--set-file",
        action="append",
        default=[],
        metavar="FIELD=PATH",
        help="set a text field to a UTF-8 file's content",
    )
    parser.add_argument("--fixable", choices=("yes", "no", "undecided"), help="whether the bug can be fixed")
    parser.add_argument("--confirmed", choices=("yes", "no"), help="whether the bug was replicated")
    parser.add_argument("--add-time", type=float, metavar="SECONDS", help="add to the step's time spent")
    status = parser.add_mutually_exclusive_group()
    status.add_argument(
        "--reject", choices=REJECT_REASONS, metavar="REASON", help=f"reject the row: {', '.join(REJECT_REASONS)}"
    )
    status.add_argument("--done", action="store_true", help="mark the row done (refused while something blocks it)")
    status.add_argument("--status", choices=("untouched", "in_progress", "blocked"), help="set another status")
    parser.add_argument("--note", metavar="TEXT", help="a note that goes with --reject or --status")
    parser.add_argument(
        "--new-step",
        action="store_true",
        help="start debug step k+1 from the last step's fixed code (before any --set); "
        "needs a run of that fix that ended in a new error",
    )
    parser.add_argument(
        "--drop-step",
        action="store_true",
        help="remove the last debug step (k > 0), made by mistake; its runs stay in the history (first)",
    )
    parser.add_argument("--undo", action="store_true", help="undo the row's last status or flag decision first")


def run(args: argparse.Namespace) -> int:
    from tui.commands._target import chosen_step, open_target

    fields = _fields(args)
    if args.note is not None and not (args.reject or args.status):
        raise InputError("--note goes with --reject or --status")
    with open_target(args) as ws:
        if args.undo:
            undone = ws.undo(args.row_id)
            print(f"undid: {undone}" if undone else f"row {args.row_id}: nothing to undo")
        if args.drop_step:
            dropped = ws.drop_step(args.row_id)
            print(f"row {args.row_id}: dropped debug step {dropped}")
        if args.new_step:
            step = ws.new_step(args.row_id)
            print(f"row {args.row_id}: started debug step {step.index}")
        k = chosen_step(ws, args)
        if fields:
            ws.update_step(args.row_id, k, **fields)
            print(f"row {args.row_id} step {k}: saved {', '.join(fields)}")
        if args.add_time is not None:
            ws.add_time(args.row_id, k, args.add_time)
            print(f"row {args.row_id} step {k}: added {args.add_time:g}s")
        status = "rejected" if args.reject else "done" if args.done else args.status
        if status is not None:
            from tracer_adapter.verbatim import check_analysis

            ws.set_status(args.row_id, status, args.reject, args.note, check_quotes=check_analysis)
            print(f"row {args.row_id}: {status}" + (f" ({args.reject})" if args.reject else ""))
    return 0


def _fields(args: argparse.Namespace) -> dict:
    """The step fields the options set, parsed and checked before anything is written."""
    fields: dict = {}
    for item in args.set:
        name, value = _split(item, "--set")
        fields[name] = _flag(name, value) if name in FLAG_FIELDS else value
    for item in args.set_file:
        name, value = _split(item, "--set-file")
        if name not in TEXT_FIELDS:
            raise InputError(f"--set-file {item}: {name!r} is not a text field ({', '.join(TEXT_FIELDS)})")
        try:
            fields[name] = Path(value).expanduser().read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"{value}: cannot read it as UTF-8 text ({exc})") from None
    if args.fixable is not None:
        fields["fixable"] = _flag("fixable", args.fixable)
    if args.confirmed is not None:
        fields["bug_confirmed"] = _flag("bug_confirmed", args.confirmed)
    return fields


def _split(item: str, option: str) -> tuple[str, str]:
    name, sep, value = item.partition("=")
    if not sep:
        raise InputError(f"{option} {item}: expected FIELD=VALUE")
    if name in STEP_SOURCE_FIELDS:
        raise InputError(f"{option} {item}: {SOURCE_FIELDS_NOT_EDITED}")
    if name not in TEXT_FIELDS + FLAG_FIELDS:
        raise InputError(f"{option} {item}: unknown field {name!r} (one of: {', '.join(TEXT_FIELDS + FLAG_FIELDS)})")
    return name, value


def _flag(name: str, value: str) -> bool | None:
    word = value.strip().lower()
    if word in _YES:
        return True
    if word in _NO:
        return False
    if name == "fixable" and word in _UNDECIDED:
        return None
    raise InputError(f"{name}={value}: expected yes or no" + (" or undecided" if name == "fixable" else ""))
