"""nodefix open: the annotation workbench (the Textual app) on a dataset or workspace."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HELP = "open the workbench (no argument: the demo)"
ORDER = 20


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "dataset", nargs="?", type=Path, help="a dataset parquet or a workspace folder (default: the bundled demo)"
    )
    parser.add_argument(
        "--workspace", type=Path, metavar="DIR", help="the workspace folder to use (default: beside the dataset)"
    )
    parser.add_argument("--theme", metavar="NAME", help="dark, light or high-contrast (default: ui.theme)")


def run(args: argparse.Namespace) -> int:
    from tui.app import NodefixApp, checked_keymap, checked_theme
    from workspace.config import load_config
    from workspace.store import open_workspace

    dataset = args.dataset
    if dataset is None:
        from demo import ensure_demo

        dataset = ensure_demo(progress=lambda line: print(f"nodefix: demo: {line}", file=sys.stderr))
        print(f"nodefix: demo dataset {dataset}", file=sys.stderr)
    config = load_config(dataset)
    checked_theme(args.theme or config.ui.theme)
    checked_keymap(config.ui.keys)
    workspace = open_workspace(dataset, args.workspace, annotator=config.ui.annotator)
    print(f"nodefix: workspace {workspace.path}", file=sys.stderr)
    try:
        NodefixApp(workspace, config, theme=args.theme).run()
    finally:
        workspace.close()
    return 0
