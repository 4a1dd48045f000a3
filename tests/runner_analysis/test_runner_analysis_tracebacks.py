"""Reading the last exception from outputs: real Python runs, AIDE's shape, and IPython's (aira-dojo) shape."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.tracebacks import parse_error, strip_ansi
from runner.verdict import compare, describe_error

pytestmark = pytest.mark.timeout(30)

AIDE_FOOTER = "Execution time: a moment seconds (time limit is an hour)."
FIXTURES = Path(__file__).parent / "fixtures"


def aide_output(run) -> str:
    """A plain run's output as AIDE records it: the workspace path replaced by runfile.py, then the time line."""
    return run.output.replace(str(run.folder / "runfile.py"), "runfile.py") + AIDE_FOOTER


def test_top_level_error_in_a_real_run(run_script):
    run = run_script("rows = {'a': 1}\nprint('loaded', len(rows))\nvalue = rows['target']\n")
    error = parse_error(run.output, run.code)
    assert (error.exc_type, error.message) == ("KeyError", "'target'")
    assert (error.lineno, error.line_text, error.function) == (3, "value = rows['target']", "<module>")
    assert error.frames[0][0].endswith("runfile.py")


def test_library_frames_are_skipped_for_the_innermost_script_frame(run_script):
    code = "import json\n\n\ndef load(text):\n    return json.loads(text)\n\n\nconfig = load('{bad')\n"
    run = run_script(code)
    error = parse_error(run.output, code)
    assert error.exc_type == "json.decoder.JSONDecodeError"
    assert (error.lineno, error.line_text, error.function) == (5, "return json.loads(text)", "load")
    assert any("json" in frame[0] and not frame[0].endswith("runfile.py") for frame in error.frames)
    assert error.frames[-1][0].endswith(".py")
    assert not error.frames[-1][0].endswith("runfile.py")


def test_chained_exceptions_keep_the_last(run_script):
    code = (
        "def read():\n    try:\n        return {}['a']\n    except KeyError:\n"
        "        raise ValueError('column a is missing')\n\n\nread()\n"
    )
    run = run_script(code)
    assert "During handling of the above exception" in run.output
    error = parse_error(run.output, code)
    assert (error.exc_type, error.message, error.lineno, error.function) == (
        "ValueError",
        "column a is missing",
        5,
        "read",
    )


def test_raise_from_keeps_the_last(run_script):
    code = "try:\n    int('x')\nexcept ValueError as exc:\n    raise RuntimeError('bad id') from exc\n"
    run = run_script(code)
    assert "direct cause" in run.output
    error = parse_error(run.output, code)
    assert (error.exc_type, error.lineno) == ("RuntimeError", 4)


def test_syntax_error_of_the_script_has_no_function(run_script):
    code = "import os\nx = (1,\nprint(x)\n"
    run = run_script(code)
    assert "Traceback" not in run.output  # python reports it before running anything
    error = parse_error(run.output, code)
    assert error.exc_type == "SyntaxError"
    assert error.lineno == 2
    assert error.line_text == "x = (1,"
    assert error.function is None


def test_indentation_error(run_script):
    code = "def f():\nreturn 1\n"
    error = parse_error(run_script(code).output, code)
    assert (error.exc_type, error.lineno, error.line_text) == ("IndentationError", 2, "return 1")


def test_syntax_error_raised_by_a_library_points_at_the_script_line(run_script):
    code = "import ast\nvalue = ast.literal_eval('(1,')\n"
    error = parse_error(run_script(code).output, code)
    assert error.exc_type == "SyntaxError"
    assert (error.lineno, error.function) == (2, "<module>")


def test_recursion_with_repeated_frames(run_script):
    code = "def down(n):\n    return down(n + 1)\n\n\ndown(0)\n"
    run = run_script(code)
    assert "Previous line repeated" in run.output
    error = parse_error(run.output, code)
    assert (error.exc_type, error.lineno, error.function) == ("RecursionError", 2, "down")


def test_progress_bars_with_carriage_returns_before_the_traceback(run_script):
    code = (
        "import sys\nfor i in range(3):\n    sys.stdout.write(f'\\repoch {i}')\n    sys.stdout.flush()\n"
        "raise MemoryError('Unable to allocate 80. GiB')\n"
    )
    error = parse_error(run_script(code).output, code)
    assert (error.exc_type, error.message, error.lineno) == ("MemoryError", "Unable to allocate 80. GiB", 5)


def test_no_traceback_gives_none(run_script):
    run = run_script("print('Traceback is a word')\nprint('KeyError: only text')\n")
    assert run.returncode == 0
    assert parse_error(run.output) is None
    assert parse_error("") is None


def test_aide_shape_with_relative_runfile_and_footer(run_script):
    code = "import pandas_does_not_exist as pd\n"
    error = parse_error(aide_output(run_script(code)), code)
    assert (error.exc_type, error.lineno, error.function) == ("ModuleNotFoundError", 1, "<module>")
    assert error.frames == [("runfile.py", 1, "<module>")]


def test_aide_time_limit_line_wins_over_the_interrupt_traceback():
    output = (
        'epoch 1\nTraceback (most recent call last):\n  File "runfile.py", line 9, in <module>\n'
        "    model.fit(X, y)\nKeyboardInterrupt\n"
        "TimeoutError: Execution exceeded the time limit of an hour"
    )
    error = parse_error(output)
    assert (error.exc_type, error.message) == ("TimeoutError", "Execution exceeded the time limit of an hour")
    assert error.lineno is None


def test_without_code_the_printed_source_is_the_line_text(run_script):
    code = "x = 1\ny = x / 0\n"
    error = parse_error(run_script(code).output)
    assert (error.lineno, error.line_text) == (2, "y = x / 0")


def test_recorded_line_numbers_are_mapped_onto_shifted_code(run_script):
    original = "import math\nvalue = math.sqrt(-1)\n"
    run = run_script(original)
    shifted = "# header added later\n\n" + original
    error = parse_error(run.output, shifted)
    assert (error.lineno, error.line_text) == (4, "value = math.sqrt(-1)")


def test_a_line_number_past_the_code_keeps_the_printed_text():
    output = 'Traceback (most recent call last):\n  File "runfile.py", line 40, in <module>\n    go()\nNameError: x\n'
    error = parse_error(output, "print(1)\n")
    assert (error.lineno, error.line_text) == (40, "go()")


DOJO_CASES = {
    # fixture: (type, message start, line, line text, function)
    "dojo_keyerror.json": ("KeyError", "'target'", 4, "value = row['target']", "<module>"),
    "dojo_function.json": ("FileNotFoundError", "[Errno 2]", 2, "with open(path) as f:", "load"),
    "dojo_library.json": ("JSONDecodeError", "Expecting property name", 5, "return json.loads(text)", "parse"),
    "dojo_syntax.json": ("SyntaxError", "'[' was never closed", 2, "x = np.array([1, 2", "<module>"),
    "dojo_indent.json": ("IndentationError", "expected an indented block", 2, "return 1", "<module>"),
    "dojo_chained.json": ("ValueError", "bad column", 4, "raise ValueError('bad column') from e", "<module>"),
}


@pytest.mark.parametrize("colour", ["ansi", "stripped"])
@pytest.mark.parametrize("name", sorted(DOJO_CASES))
def test_aira_dojo_ipython_shape(recorded, name, colour):
    code, output = recorded(name, None if colour == "ansi" else strip_ansi)
    assert ("\x1b[" in output) == (colour == "ansi")
    exc_type, message, lineno, line_text, function = DOJO_CASES[name]
    error = parse_error(output, code)
    assert error.exc_type == exc_type
    assert error.message.startswith(message)
    assert (error.lineno, error.line_text, error.function) == (lineno, line_text, function)


def test_aira_dojo_frames_name_cells_and_library_files(recorded):
    code, output = recorded("dojo_library.json")
    frames = parse_error(output, code).frames
    assert [f[1:] for f in frames[:2]] == [(8, "<module>"), (5, "parse")]
    assert all(f[0].startswith("In[") for f in frames[:2])
    assert frames[2][0].endswith("json/__init__.py")
    assert frames[2][2] == "loads"
    assert frames[-1][2] == "raw_decode"  # "JSONDecoder.raw_decode(self, s, idx)" read as the bare name


def test_aira_dojo_time_limit_line():
    output = "".join(
        [
            "step 1\n",
            "ERROR:",
            "ERROR: Timeout waiting for output from code block.",
            "TimeoutError: Execution exceeded the time limit of 6 minutes",
        ]
    )
    error = parse_error(output)
    assert (error.exc_type, error.message) == ("TimeoutError", "Execution exceeded the time limit of 6 minutes")


def test_aide_ipython_mode_file_frames(recorded):
    code, output = recorded("aide_ipython_function.json")
    error = parse_error(output, code)
    assert (error.exc_type, error.lineno, error.line_text, error.function) == (
        "FileNotFoundError",
        2,
        "with open(path) as f:",
        "load",
    )
    assert [f[2] for f in error.frames] == ["<module>", "main", "load"]


def test_python_313_coloured_traceback(recorded):
    code, output = recorded("py313_color.json")
    assert "\x1b[35m" in output
    error = parse_error(output, code)
    assert (error.exc_type, error.message, error.lineno, error.function) == ("KeyError", "'x'", 2, "f")


@pytest.mark.parametrize(
    ("header", "function"),
    [
        ("Input In [3], in <cell line: 4>()", "<module>"),
        ("Input In [3], in train(model)", "train"),
        ("<ipython-input-3-9f2c1e0d1a2b> in <module>", "<module>"),
    ],
)
def test_older_ipython_cell_headers(header, function):
    output = (
        "---------------------------------------------------------------------------\n"
        "KeyError                                  Traceback (most recent call last)\n"
        f"{header}\n      3 x = 1\n----> 4 y = row['k']\n\n"
        "~/lib/python3.8/site-packages/pandas/core/frame.py in __getitem__(self, key)\n"
        "-> 3761 indexer = self.columns.get_loc(key)\n\nKeyError: 'k'\n"
    )
    error = parse_error(output, "a = 0\nb = 0\nx = 1\ny = row['k']\n")
    assert (error.exc_type, error.lineno, error.line_text, error.function) == ("KeyError", 4, "y = row['k']", function)
    assert error.frames[-1] == ("~/lib/python3.8/site-packages/pandas/core/frame.py", 3761, "__getitem__")


def test_strip_ansi_removes_colour_and_cursor_codes():
    assert strip_ansi("\x1b[0;31mKeyError\x1b[0m: \x1b[38;5;124m'x'\x1b[39m\x1b[2K\x1b[1A") == "KeyError: 'x'"
    assert strip_ansi("plain") == "plain"


def test_output_that_looks_like_an_ipython_file_header_is_not_a_traceback(run_script):
    run = run_script("print('File train.csv:200, in memory')\nprint('model.py in place')\nprint('Done')\n")
    assert parse_error(run.output) is None


def test_time_limit_line_after_a_cut_off_traceback():
    output = (
        'Traceback (most recent call last):\n  File "runfile.py", line 3, in <module>\n    train()\n'
        "TimeoutError: Execution exceeded the time limit of 5 minutes"
    )
    error = parse_error(output, "import x\n\ntrain()\n")
    assert (error.exc_type, error.lineno, error.frames) == ("TimeoutError", None, [])


def test_a_traceback_quoted_in_the_message_is_the_cause_not_the_error():
    """scikit-learn's "All the 5 fits failed" output, captured from a real run in the bubblewrap sandbox."""
    code = (FIXTURES / "sklearn_all_fits_failed.py").read_text()
    output = (FIXTURES / "sklearn_all_fits_failed.txt").read_text()
    error = parse_error(output, code)
    assert (error.exc_type, error.message) == ("ValueError", "All the 5 fits failed.")
    assert (error.lineno, error.line_text, error.function) == (
        11,
        "scores = cross_val_score(model, X, y, cv=5)",
        "<module>",
    )
    assert error.cause == "ValueError: could not convert string to float: 'a'"
    assert describe_error(error) == (
        "ValueError: All the 5 fits failed. at line 11 "
        "(inner error: ValueError: could not convert string to float: 'a')"
    )
    recorded = output.replace("/sandbox/work/runfile.py", "runfile.py") + AIDE_FOOTER
    assert compare(error, recorded, code) == "same"


def test_a_printed_traceback_before_the_real_one_does_not_become_a_cause(run_script):
    code = "import traceback\ntry:\n    int('x')\nexcept ValueError:\n    traceback.print_exc()\n{}['k']\n"
    error = parse_error(run_script(code).output, code)
    assert (error.exc_type, error.lineno, error.cause) == ("KeyError", 6, None)
