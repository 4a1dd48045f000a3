"""``nodefix demo [DIR]``: write the bundled demo (a dataset, its competition data, its settings)."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

HELP = "write the bundled demo: scripts, recorded runs, data"
ORDER = 10


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "dir",
        nargs="?",
        type=Path,
        metavar="DIR",
        help="where to write it (default: the user data folder's nodefix/demo)",
    )
    parser.add_argument(
        "--force", action="store_true", help="rebuild even if DIR holds a workspace or other files (they are kept)"
    )


def run(args: argparse.Namespace) -> int:
    from demo import build_demo, default_demo_dir
    from workspace.config import load_config
    from workspace.errors import InputError

    out_dir = (args.dir if args.dir is not None else default_demo_dir()).expanduser().resolve()
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(f"{out_dir}: is a file, not a folder")
    if not args.force:
        problem = _reason_to_keep(out_dir)
        if problem:
            raise InputError(f"{out_dir}: {problem}; use --force to rebuild the demo there anyway")
    paths = build_demo(
        out_dir,
        settings=load_config().run,
        progress=lambda line: print(f"nodefix: {line}", file=sys.stderr, flush=True),
    )
    print(f"dataset:   {paths.dataset}")
    print(f"data root: {paths.data_root}")
    print(f"settings:  {paths.config}")
    print(f"next:      nodefix open {shlex.quote(str(paths.dataset))}")
    return 0


def _reason_to_keep(out_dir: Path) -> str | None:
    """Why rebuilding in ``out_dir`` could harm work there, or None."""
    from demo.builder import DATA_DIR_NAME, DATASET_NAME, demo_paths
    from workspace.config import PROJECT_FILE
    from workspace.locate import DB_NAME, default_workspace_dir

    if not out_dir.is_dir():
        return None
    dataset = demo_paths(out_dir).dataset
    workspaces = [
        p
        for p in (out_dir, default_workspace_dir(dataset), *out_dir.iterdir())
        if p.is_dir() and (p / DB_NAME).is_file()
    ]
    if workspaces:
        return (
            f"holds a nodefix workspace ({workspaces[0]}); rebuilding the demo would replace the dataset it annotates"
        )
    ours = {DATASET_NAME, DATA_DIR_NAME, PROJECT_FILE}
    foreign = sorted(p.name for p in out_dir.iterdir() if p.name not in ours)
    if foreign:
        return f"holds other files ({', '.join(foreign[:3])}{', ...' if len(foreign) > 3 else ''})"
    return None
