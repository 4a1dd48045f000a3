"""entry.py: the function picker, the default entry and the marked code for both tracers."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tracer_adapter.entry import MARKER, default_entry, marker_functions, with_marker
from workspace.errors import InputError

CODE = textwrap.dedent("""\
    import pandas as pd

    def load(path):
        return pd.read_csv(path)

    class Model:
        def fit(self, rows):
            return [self.score(r) for r in rows]

        def score(self, row):
            return row["target"]

    async def fetch():
        return 1

    def main():
        def inner(x):
            return x
        rows = load("train.csv")
        return Model().fit(rows)
    """)

RECORDED = textwrap.dedent("""\
    Traceback (most recent call last):
      File "runfile.py", line 21, in <module>
      File "runfile.py", line 20, in main
        return Model().fit(rows)
      File "runfile.py", line 8, in fit
        return [self.score(r) for r in rows]
      File "runfile.py", line 8, in <listcomp>
        return [self.score(r) for r in rows]
      File "runfile.py", line 11, in score
        return row["target"]
    KeyError: 'target'
    """)


def test_marker_functions_lists_defs_in_order() -> None:
    assert marker_functions(CODE) == ["load", "Model.fit", "Model.score", "fetch", "main", "main.inner"]
    assert marker_functions("def broken(:\n") == []
    assert marker_functions("") == []


def test_default_entry_is_innermost_script_function() -> None:
    assert default_entry(CODE, RECORDED) == "Model.score"
    in_comprehension = RECORDED.replace('  File "runfile.py", line 11, in score\n    return row["target"]\n', "")
    assert default_entry(CODE, in_comprehension) == "Model.fit"  # the listcomp's enclosing def
    top_level = 'Traceback (most recent call last):\n  File "runfile.py", line 1, in <module>\nNameError: x\n'
    assert default_entry(CODE, top_level) is None
    assert default_entry(CODE, None) is None
    assert default_entry(CODE, "all fine\n") is None
    assert default_entry("def broken(:\n", RECORDED) is None


def test_with_marker_changes_only_the_entry_line() -> None:
    marked = with_marker(CODE, "Model.score")
    before, after = CODE.splitlines(), marked.splitlines()
    changed = [i for i, (a, b) in enumerate(zip(before, after, strict=False)) if a != b]
    assert len(before) == len(after)
    assert changed == [9]
    assert after[9] == f"    def score(self, row):  {MARKER}"
    # a marker elsewhere moves to the new entry; CRLF line endings survive
    moved = with_marker(marked.replace("\n", "\r\n"), "load")
    assert moved.count(MARKER) == 1
    assert f"def load(path):  {MARKER}\r\n" in moved
    assert "    def score(self, row):\r\n" in moved
    assert with_marker(marked, "Model.score") == marked


def test_with_marker_bad_input() -> None:
    with pytest.raises(InputError, match="entry 'nope': no such function"):
        with_marker(CODE, "nope")
    with pytest.raises(InputError, match="line 1, column"):
        with_marker("def broken(:\n", "broken")
    with pytest.raises(InputError, match="both"):
        with_marker("a = '''x'''\nb = \"\"\"y\"\"\"\n", None)


# A stand-in for the client's tool: imports code_to_trace, calls the marked function and prints
# every traced line of that file as "LINE <source>", like a tracer that follows only that file.
CLIENT_MAIN = textwrap.dedent("""\
    import sys
    import code_to_trace

    MARKER = "# << START_OF_TRACE"
    source = open(code_to_trace.__file__).read().splitlines()
    entry = next(getattr(code_to_trace, line.split("def ")[1].split("(")[0])
                 for line in source if MARKER in line and line.lstrip().startswith("def "))

    def tracer(frame, event, arg):
        if frame.f_code.co_filename != code_to_trace.__file__:
            return None
        if event == "line":
            print("LINE", source[frame.f_lineno - 1], file=sys.stderr)
        return tracer

    print("tool log: tracing", entry.__name__, file=sys.stderr)
    sys.settrace(tracer)
    try:
        entry()
    finally:
        sys.settrace(None)
    """)

SCRIPT = textwrap.dedent('''\
    """A top-level agent script."""
    import pickle
    import multiprocessing
    text = """keep
       this indentation"""
    def double(x):
        return 2 * x
    values = [double(i) for i in range(3)]
    print("values", values, repr(text), __doc__)
    print("pickles", pickle.loads(pickle.dumps(double)) is double)
    if __name__ == "__main__":
        with multiprocessing.get_context("spawn").Pool(1) as pool:
            print("pool", pool.map(double, [5]))
        print(values[7])
    ''')


def test_wrapped_script_runs_like_the_plain_script(tmp_path: Path) -> None:
    plain_dir, tool_dir = tmp_path / "plain", tmp_path / "tool"
    plain_dir.mkdir()
    tool_dir.mkdir()
    (plain_dir / "runfile.py").write_text(SCRIPT)
    (tool_dir / "main.py").write_text(CLIENT_MAIN)
    (tool_dir / "code_to_trace.py").write_text(with_marker(SCRIPT, None))
    plain = subprocess.run([sys.executable, "runfile.py"], cwd=plain_dir, capture_output=True, text=True, timeout=60)
    tool = subprocess.run([sys.executable, "main.py"], cwd=tool_dir, capture_output=True, text=True, timeout=60)
    assert plain.stdout.startswith("values [0, 2, 4] 'keep\\n   this indentation' A top-level agent script.\n")
    assert "pool [10]" in plain.stdout
    assert tool.stdout == plain.stdout
    assert tool.returncode == plain.returncode == 1
    assert plain.stderr.splitlines()[-1] == tool.stderr.splitlines()[-1] == "IndexError: list index out of range"
    # the failing line is the script's own, one line further down in the wrapped file
    assert 'runfile.py", line 14, in <module>' in plain.stderr
    assert 'code_to_trace.py", line 15, in <module>' in tool.stderr
    traced = [line[5:] for line in tool.stderr.splitlines() if line.startswith("LINE ")]
    script_lines = SCRIPT.splitlines()
    assert traced[2:]
    assert set(traced[2:]) <= set(script_lines)
    assert "    return 2 * x" in traced
    assert "    print(values[7])" in traced


def test_default_entry_reads_ipython_tracebacks() -> None:
    recorded = (
        "\x1b[0;31m---------------------------------------------------------------------------\x1b[0m\n"
        "\x1b[0;31mKeyError\x1b[0m                                  Traceback (most recent call last)\n"
        "Cell \x1b[0;32mIn[1], line 21\x1b[0m\n"
        "Cell \x1b[0;32mIn[1], line 11\x1b[0m, in \x1b[0;36mModel.score\x1b[0;34m(self, row)\x1b[0m\n"
        '\x1b[0;32m---> 11\x1b[0m     \x1b[38;5;28;01mreturn\x1b[39;00m row[\x1b[38;5;124m"target"]\n'
        "\x1b[0;31mKeyError\x1b[0m: 'target'\n"
    )
    assert default_entry(CODE, recorded) == "Model.score"


def test_with_marker_on_multiline_async_and_one_line_defs() -> None:
    code = "async def fetch(a,\n                b):\n    return a\ndef one(): return 1\n"
    assert with_marker(code, "fetch").splitlines()[0] == f"async def fetch(a,  {MARKER}"
    assert with_marker(code, "one").splitlines()[3] == f"def one(): return 1  {MARKER}"
    for entry in ("fetch", "one"):
        compile(with_marker(code, entry), "x.py", "exec")
    # a form feed is no line break for Python: the marker still lands on the def line
    assert (
        with_marker("# page\x0cbreak\ndef f():\n    pass\n", "f") == f"# page\x0cbreak\ndef f():  {MARKER}\n    pass\n"
    )
