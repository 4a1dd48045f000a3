"""The recording driver reproduces AIDE's interpreter output, word for word."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from demo.builder import AIDE_FORMAT_FILE, DRIVER_FILE
from runner.aide_format import naturaldelta


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (0.0, "a moment"),
        (0.99, "a moment"),
        (1.5, "a second"),
        (2.0, "2 seconds"),
        (59.9, "59 seconds"),
        (60, "a minute"),
        (119, "a minute"),
        (120, "2 minutes"),
        (360, "6 minutes"),
        (3599, "59 minutes"),
        (3600, "an hour"),
        (7200, "2 hours"),
    ],
)
def test_naturaldelta_matches_humanize(seconds: float, words: str) -> None:
    assert naturaldelta(seconds) == words


def _drive(tmp_path: Path, code: str, timeout: float) -> dict:
    """Run the driver as the demo's sandbox does: copied beside the script with the format it imports."""
    (tmp_path / "runfile.py").write_text(code)
    for source in (DRIVER_FILE, AIDE_FORMAT_FILE):
        (tmp_path / source.name).write_bytes(source.read_bytes())
    subprocess.run(
        [sys.executable, DRIVER_FILE.name, "runfile.py", "--timeout", str(timeout), "--result", "r.json"],
        cwd=tmp_path,
        capture_output=True,
        timeout=30,
        check=True,
    )
    return json.loads((tmp_path / "r.json").read_text())


def test_each_write_is_an_item_and_the_traceback_names_runfile(tmp_path: Path) -> None:
    result = _drive(
        tmp_path,
        "import sys\nprint('a', 2)\nsys.stderr.write('warn\\n')\n"
        "assert __name__ == '__main__' and __file__ == 'runfile.py'\n{}['x']\n",
        60,
    )
    items = result["term_out"]
    assert items[:5] == ["a", " ", "2", "\n", "warn\n"]
    # one item, the script's frame only (caret lines vary with the Python version)
    assert items[5].startswith(
        "Traceback (most recent call last):\n  File \"runfile.py\", line 5, in <module>\n    {}['x']\n"
    )
    assert items[5].endswith("\nKeyError: 'x'\n")
    assert items[5].count("File ") == 1
    assert str(DRIVER_FILE.name) not in items[5]
    assert items[6] == "Execution time: a moment seconds (time limit is a minute)."
    assert result["exc_type"] == "KeyError"


def test_time_limit_interrupts_like_aide(tmp_path: Path) -> None:
    result = _drive(tmp_path, "import time\nprint('start')\nwhile True:\n    time.sleep(0.01)\n", 1)
    items = result["term_out"]
    assert items[:2] == ["start", "\n"]
    assert items[-2].startswith("Traceback (most recent call last):\n")
    assert items[-2].endswith("KeyboardInterrupt\n")
    assert items[-1] == "TimeoutError: Execution exceeded the time limit of a second"
    assert result["exc_type"] == "TimeoutError"
    assert result["exec_time"] >= 1
