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


def add_one_step_arguments(parser: argparse.ArgumentParser) -> None:
    """--id and --step K (default 0), for the commands that work on one step."""
    parser.add_argument("--id", required=True, dest="row_id", metavar="ID", help="the row's id")
    parser.add_argument("--step", type=int, default=0, metavar="K", help="the debug step (default 0)")


def add_step_arguments(parser: argparse.ArgumentParser, code_help: str) -> None:
    """--id, --step K (default 0) and --code FILE, for the commands that work on one step's code."""
    add_one_step_arguments(parser)
    parser.add_argument("--code", type=Path, metavar="FILE", help=code_help)


def open_target(args: argparse.Namespace) -> Workspace:
    """Open the workspace the arguments name, annotating as the configured user; prints its path to stderr."""
    from workspace.config import load_config
    from workspace.store import open_workspace

    ws = open_workspace(args.target, args.workspace)
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
