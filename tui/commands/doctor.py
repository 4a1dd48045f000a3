"""``nodefix doctor``: which sandbox backends work here and why not, the data, and the settings in use."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HELP = "check sandboxes, data, network cut and settings"
ORDER = 90


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "dataset", type=Path, nargs="?", help="a dataset parquet, to include the nodefix.toml beside it"
    )


def run(args: argparse.Namespace) -> int:
    from runner.doctor import diagnose
    from workspace.config import load_config

    findings = diagnose(load_config(args.dataset))
    width = max(len(f.topic) for f in findings)
    for finding in findings:
        mark = "ok  " if finding.ok else "FAIL"
        print(f"{mark} {finding.topic:<{width}}  {finding.text}")
    sys.stdout.flush()
    usable = [f for f in findings if f.topic == "backend"]
    return 0 if all(f.ok for f in usable) else 1
