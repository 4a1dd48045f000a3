"""``nodefix doctor``: which sandbox backends work here and why not, the data, and the settings in use."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HELP = "check sandboxes, data, network cut and settings"
ORDER = 90
MARKS = {"ok": "ok  ", "optional": "off ", "broken": "FAIL"}  # off: optional and not configured


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        f"{HELP}. Each line is ok, off (optional and not configured: apptainer without an image, grading "
        "without a checkout, descriptions without an mle-bench checkout, Slurm missing or unreachable while "
        "cluster.executor is local) or FAIL (broken). "
        "Exits 1 when something is broken, else 0."
    )
    parser.add_argument(
        "dataset", type=Path, nargs="?", help="a dataset parquet, to include the nodefix.toml beside it"
    )


def run(args: argparse.Namespace) -> int:
    from runner.doctor import diagnose
    from workspace.config import load_config

    findings = diagnose(load_config(args.dataset), _competitions(args.dataset))
    width = max(len(f.topic) for f in findings)
    for finding in findings:
        print(f"{MARKS[finding.level]} {finding.topic:<{width}}  {finding.text}")
    broken = [f.topic for f in findings if f.level == "broken"]
    print(f"broken: {', '.join(broken)}" if broken else "nothing broken (optional parts are marked 'off')")
    sys.stdout.flush()
    return 1 if broken else 0


def _competitions(dataset: Path | None) -> list[str]:
    """The dataset's competition ids (read from its queue columns only), to check the descriptions against."""
    if dataset is None:
        return []
    from workspace.dataset import load_dataset

    return load_dataset(dataset).column_values("competition_id")
