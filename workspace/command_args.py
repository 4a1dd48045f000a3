"""The arguments every dataset command shares (TARGET, --workspace) and how they open a workspace."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workspace.store import Workspace


def add_target_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", metavar="TARGET", type=Path,
                        help="a dataset parquet, or a workspace folder")
    parser.add_argument("--workspace", metavar="DIR", type=Path, default=None,
                        help="workspace folder (default: <dataset>.nodefix/ beside the dataset)")


def open_target(args: argparse.Namespace) -> Workspace:
    """Open the workspace the arguments name, annotating as the configured user; prints its path to stderr."""
    from workspace.config import load_config
    from workspace.store import open_workspace

    ws = open_workspace(args.target, args.workspace)
    ws.annotator = load_config(ws.dataset.path).ui.annotator
    print(f"workspace: {ws.path}", file=sys.stderr)
    return ws
