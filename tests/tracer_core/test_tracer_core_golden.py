"""The tracer's output equals the client's expected traces byte for byte (addresses normalised)."""

from __future__ import annotations

import ast
import re
import shutil
from pathlib import Path

import pytest
from python_versions import interpreters

# copies of the client's examples (shared/spec/trace_examples/): programs and expected traces
EXAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "trace_examples"  # the client's goldens
ADDRESS = re.compile(r"0x[0-9a-f]+")


def test_tracer_is_python38_syntax(tracer_path: Path) -> None:
    ast.parse(tracer_path.read_text(), feature_version=(3, 8))


@pytest.mark.parametrize("python", interpreters("3.8"))  # and the oldest supported one
@pytest.mark.parametrize("example", ["ex1", "ex2"])
def test_golden(tmp_path: Path, example: str, python: str, traced) -> None:
    script = tmp_path / f"{example}.py"
    shutil.copy(EXAMPLES / f"{example}.py", script)
    result = traced(script, python=python)
    assert ADDRESS.sub("0xADDR", result.trace) == (EXAMPLES / f"{example}.trace").read_text()
    assert result.meta["entry"] == "main"
    assert result.meta["entry_source"] == "marker"
    # the scripts only define main: the tracer calls it, and ex2's KeyError is reported as the script's
    assert result.meta["entry_called_by_tracer"] is True
    assert result.meta["raised"] is (example == "ex2")
    assert result.process.returncode == (1 if example == "ex2" else 0)
