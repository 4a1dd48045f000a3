"""``nodefix --help`` lists every subcommand on one line of an 80-column terminal."""

from __future__ import annotations

import os
import subprocess
import sys

COMMANDS = [
    "demo",
    "open",
    "rows",
    "show",
    "annotate",
    "export",
    "validate",
    "run",
    "replicate",
    "grade",
    "trace",
    "draft",
    "fix-paths",
    "split",
    "merge",
    "doctor",
]


def test_help_lists_every_subcommand_on_one_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tui", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "80"},
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.split("\n")
    listed = [line.split()[0] for line in lines if line.startswith("    ") and line.split()]
    assert listed == COMMANDS
    for line in lines:
        assert len(line) <= 80, line
        if line.startswith("    "):
            assert len(line.split()) > 2, f"help text not on its command's line: {line!r}"


def test_unknown_command_is_a_usage_error() -> None:
    done = subprocess.run([sys.executable, "-m", "tui", "explode"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "invalid choice: 'explode'" in done.stderr
