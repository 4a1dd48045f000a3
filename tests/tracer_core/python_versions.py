"""Interpreters to run the tracer with: it runs in the sandbox under whatever Python 3.8+ is there."""

from __future__ import annotations

import glob
import shutil
import subprocess
import sys


def interpreters(*versions: str) -> list[str]:
    """This Python, plus the first working interpreter of each version ("3.8") the machine has."""
    found = [sys.executable]
    for version in versions:
        candidates = [
            shutil.which(f"python{version}"),
            *sorted(glob.glob(f"/root/.pyenv/versions/{version}.*/bin/python")),
        ]
        for candidate in candidates:
            if candidate and subprocess.run([candidate, "-c", "pass"], capture_output=True).returncode == 0:
                found.append(candidate)
                break
    return found
