"""Exact values: with its caps lifted the built-in tracer writes what a naive per-event ``repr`` tracer writes.

The corpus: the client's two examples, every demo script against the demo's
data, and small scripts that change objects behind the tracer's back (through
an alias, in place from C, in a generator, in a method).
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from itertools import zip_longest
from pathlib import Path

import pytest
from conftest import run_traced

from demo.catalogue import ROWS, SCRIPTS
from tracer_adapter.cwm_tracer import FRAME_SEP

NAIVE = Path(__file__).resolve().with_name("naive_tracer.py")
EXAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "trace_examples"
NO_CAPS = ("--max-frames", "0", "--max-bytes", "0", "--max-seconds", "0", "--max-value-chars", "0")
ADDRESS = re.compile(r"0x[0-9a-fA-F]+")
DEMO_FRAMES = 600  # the demo scripts are compared on their first frames (a whole uncapped run takes minutes)

SMALL = {
    "alias_pandas": """
        import pandas as pd


        def add_col(h):
            h["d"]["b"] = [4, 5, 6]


        def main():  # << START_OF_TRACE
            df = pd.DataFrame({"a": [1, 2, 3]})
            holder = {"d": df}
            add_col(holder)
            n = len(df.columns)
            df.drop(columns="a", inplace=True)
            return n + len(holder["d"].columns)


        main()
    """,
    "inplace_numpy": """
        import numpy as np


        def main():  # << START_OF_TRACE
            a = np.zeros(3)
            b = a
            b += 1
            np.add(a, 1, out=a)
            view = a[1:]
            view[:] = 7
            a.sort()
            rows = [a]
            rows[0][0] = -1
            return a.sum()


        main()
    """,
    "generator": """
        import pandas as pd


        def fill(df):
            for i in range(3):
                df.loc[i, "a"] = i * 10
                yield i


        def main():  # << START_OF_TRACE
            df = pd.DataFrame({"a": [0, 0, 0]})
            seen = []
            for i in fill(df):
                seen.append(i)
                total = int(df["a"].sum())
            return total, seen


        main()
    """,
    "classes": """
        class Box:
            size = 2

            def __init__(self, items):
                self.items = items

            def __repr__(self):
                return f"Box({self.items!r})"

            def grow(self, other):
                other.items.append(len(self.items))


        class Shelf:
            def __init__(self, box):
                self.box = box

            def __repr__(self):
                return f"Shelf({self.box!r})"


        def main():  # << START_OF_TRACE
            box = Box([1])
            shelf = Shelf(box)
            same = shelf.box
            box.grow(same)
            same.items += [9]
            shelf.box.items[0] = 0
            del same
            return shelf


        main()
    """,
}


def _same_as_naive(script: Path, frames: int = 0) -> None:
    """The built-in tracer's trace (its first ``frames`` frames, if given) is the naive tracer's."""
    naive_out = script.parent / "naive.trace"
    argv = [sys.executable, str(NAIVE), script.name, str(naive_out), str(frames)]
    subprocess.run(argv, cwd=script.parent, capture_output=True, timeout=300)
    # with a frame budget of 2 x frames, the first half is written as it comes: the frames to compare
    options = NO_CAPS if not frames else (*NO_CAPS[:1], str(2 * frames), *NO_CAPS[2:5], "120", *NO_CAPS[6:])
    traced = run_traced(script, *options, timeout=300)
    expected = ADDRESS.sub("0xADDR", naive_out.read_text(encoding="utf-8"))
    got = ADDRESS.sub("0xADDR", traced.trace)
    parts = got.split(FRAME_SEP)
    if frames and len(parts) > frames + 2:  # more than ``frames`` frames: keep the first ones
        got = FRAME_SEP.join(parts[: frames + 1]) + FRAME_SEP
    assert expected.count("<|frame_sep|>") > 2
    if got != expected:  # name the first differing line rather than diff megabytes
        pairs = enumerate(zip_longest(expected.split("\n"), got.split("\n"), fillvalue=""), 1)
        n, (want, have) = next((n, pair) for n, pair in pairs if pair[0] != pair[1])
        pytest.fail(
            f"trace line {n} differs from the naive tracer's:\n  naive:  {want[:2000]}\n  traced: {have[:2000]}"
        )


@pytest.mark.parametrize("name", sorted(SMALL))
def test_objects_changed_behind_the_tracer_are_shown_as_repr_shows_them(name: str, tmp_path: Path) -> None:
    script = tmp_path / f"{name}.py"
    script.write_text(textwrap.dedent(SMALL[name]).lstrip("\n"))
    _same_as_naive(script)


@pytest.mark.parametrize("name", ["ex1", "ex2"])
def test_the_client_examples(name: str, tmp_path: Path) -> None:
    script = tmp_path / f"{name}.py"
    script.write_bytes((EXAMPLES / f"{name}.py").read_bytes())
    _same_as_naive(script)


DEMO_SCRIPTS = sorted({row.script: row for row in ROWS if row.rerun_exception != "SyntaxError"}.values(), key=str)


@pytest.mark.parametrize("row", DEMO_SCRIPTS, ids=[row.script for row in DEMO_SCRIPTS])
def test_the_demo_scripts(row, demo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if row.rerun_verdict == "time_limit":
        pytest.skip("runs until its time limit by design")
    script = tmp_path / row.script
    script.write_bytes((SCRIPTS / row.script).read_bytes())
    (tmp_path / "data").symlink_to(demo.data_root / row.competition_id / "prepared" / "public")
    monkeypatch.setenv("PYTHONHASHSEED", "0")  # sets of strings print in the same order in both runs
    _same_as_naive(script, DEMO_FRAMES)
