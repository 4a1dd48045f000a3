"""What the dataset commands share: the TARGET and --workspace arguments, opening the workspace, reading code files."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workspace.store import Workspace


def add_target_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", metavar="TARGET", type=Path, help="a dataset parquet, or a workspace folder")
    parser.add_argument(
        "--workspace",
        metavar="DIR",
        type=Path,
        default=None,
        help="workspace folder (default: <dataset>.nodefix/ beside the dataset)",
    )


ID_HELP = "the row's id, or its first characters as the queue shows them (they must name one row)"
STEP_HELP = "the debug step (default: the row's last step)"


def add_id_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--id", required=True, dest="row_id", metavar="ID", help=ID_HELP)


def add_one_step_arguments(parser: argparse.ArgumentParser) -> None:
    """--id and --step K (default: the last step), for the commands that work on one step."""
    add_id_argument(parser)
    parser.add_argument("--step", type=int, metavar="K", help=STEP_HELP)


def add_step_arguments(parser: argparse.ArgumentParser, code_help: str) -> None:
    """--id, --step K (default: the last step) and --code FILE, for the commands that work on one step's code."""
    add_one_step_arguments(parser)
    parser.add_argument("--code", type=Path, metavar="FILE", help=code_help)


def add_time_limit_argument(parser: argparse.ArgumentParser, text: str) -> None:
    parser.add_argument("--time-limit", type=float, metavar="S", help=text)


def checked_time_limit(args: argparse.Namespace) -> float | None:
    """--time-limit as given (None when it was not), refused unless it is more than 0."""
    from workspace.errors import InputError

    if args.time_limit is not None and args.time_limit <= 0:
        raise InputError(f"--time-limit must be more than 0 seconds, not {args.time_limit}")
    return args.time_limit


def chosen_step(ws: Workspace, args: argparse.Namespace) -> int:
    """The step --step names, or the row's last step: the one default of every command."""
    return args.step if args.step is not None else ws.steps(args.row_id)[-1].index


def open_target(args: argparse.Namespace) -> Workspace:
    """Open the workspace the arguments name, annotating as the configured user; prints its path to stderr.

    An --id given as a prefix is replaced by the full id it names.
    """
    from workspace.config import load_config
    from workspace.store import open_workspace

    ws = open_workspace(args.target, args.workspace)
    try:
        if getattr(args, "row_id", None) is not None:
            args.row_id = ws.dataset.resolve_id(args.row_id)
    except BaseException:
        ws.close()
        raise
    ws.annotator = load_config(ws.dataset.path).ui.annotator
    print(f"nodefix: workspace {ws.path}", file=sys.stderr)
    return ws


def read_code_file(path: Path, purpose: str) -> str:
    """The text of a code file given on the command line (``purpose``: "run", "grade", "trace")."""
    from workspace.errors import InputError

    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read the code to {purpose} ({exc})") from None


@contextlib.contextmanager
def ctrl_c_sets(event: threading.Event, announce: Callable[[], None] | None = None) -> Iterator[None]:
    """The first Ctrl-C sets ``event`` (the work under way ends its runs cleanly); a second one aborts."""

    def first(signum: int, frame: object) -> None:
        event.set()
        signal.signal(signal.SIGINT, signal.default_int_handler)
        if announce is not None:
            announce()

    previous = signal.signal(signal.SIGINT, first)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
