"""The ``[cluster]`` flags the batch commands share, and the check that the chosen executor is installed."""

from __future__ import annotations

import argparse
from pathlib import Path

_FLAGS = (  # flag, config key, type, metavar, help
    ("--executor", "executor", str, "E", "where runs execute: local or slurm (default: cluster.executor)"),
    ("--partition", "partition", str, "P", "Slurm partition (default: cluster.partition, else the cluster's default)"),
    ("--gres", "gres", str, "G", "Slurm generic resources per job, e.g. gpu:1 (default: cluster.gres)"),
    (
        "--shared-folder",
        "shared_folder",
        Path,
        "DIR",
        "folder the host and the nodes share (default: cluster.shared_folder)",
    ),
)


def add_cluster_arguments(parser: argparse.ArgumentParser) -> None:
    for flag, key, kind, metavar, help_text in _FLAGS:
        parser.add_argument(flag, dest=f"cluster_{key}", type=kind, metavar=metavar, help=help_text)


def cluster_overrides(args: argparse.Namespace) -> dict:
    return {key: getattr(args, f"cluster_{key}") for _, key, _, _, _ in _FLAGS}


def cluster_resume_words(args: argparse.Namespace) -> list[str]:
    words: list[str] = []
    for flag, key, _, _, _ in _FLAGS:
        value = getattr(args, f"cluster_{key}")
        if value is not None:
            words += [flag, str(value)]
    return words


def check_executor_installed(executor: str) -> None:
    """One line, before anything runs, when the Slurm executor is asked for without the ``cluster`` extra."""
    if executor != "slurm":
        return
    try:
        import submitit  # noqa: F401
    except ImportError:
        from workspace.errors import InputError

        raise InputError(
            "the slurm executor (--executor / cluster.executor) needs nodefix's cluster extra, "
            'and submitit is not installed: pip install -e ".[cluster]" in the nodefix checkout'
        ) from None
