"""A traced run behaves like a plain run: output, exception, exit code, __main__, pickling."""

from __future__ import annotations

import json
import re
import subprocess
import sys

AGENT_SCRIPT = """
    import json
    import pickle
    import sys

    settings = {"folds": 3, "name": "baseline"}

    def load(rows):
        return [{"id": i, "value": i * 1.5} for i in range(rows)]

    class Scaler:
        def __init__(self, factor):
            self.factor = factor

        def apply(self, rows):
            return [row["value"] * self.factor for row in rows]

    rows = load(4)
    print("rows", len(rows), "argv", sys.argv)
    print("pickled", len(pickle.dumps(load)) > 0, pickle.loads(pickle.dumps(Scaler(2))).factor)
    scaled = Scaler(2).apply(rows)
    print(json.dumps(scaled))
    if __name__ == "__main__":
        print("main block", __file__.endswith("runfile.py"))
    print(rows[10]["value"])
"""


def _error_line(stderr: str) -> tuple[str, str]:
    """(last File line, exception line) of a traceback."""
    files = re.findall(r'File "[^"]+", line \d+, in \S+', stderr)
    return files[-1], stderr.strip().splitlines()[-1]


def test_top_level_script_matches_plain_run(script, traced, plain) -> None:
    path = script(AGENT_SCRIPT)
    expected = plain(path)
    result = traced(path)
    assert expected.returncode == 1
    assert "main block True" in expected.stdout
    assert result.process.stdout == expected.stdout
    assert result.process.returncode == expected.returncode
    assert _error_line(result.process.stderr) == _error_line(expected.stderr)
    assert result.process.stderr == expected.stderr  # the whole traceback, tracer frames left out
    assert result.meta["entry"] == "<module>"
    assert result.meta["raised"] is True
    assert result.meta["exception"] == "IndexError: list index out of range"
    # the module frame is the entry: its call frame, its own lines as written, its globals without
    # modules, functions, classes and dunders, and the exception at the failing line
    assert result.lines[0] == "<|frame_sep|><|call_sep|>{}<|action_sep|>import json"
    assert any(
        line.startswith("<|frame_sep|><|line_sep|>{\"settings\": \"{'folds': 3, 'name': 'baseline'}\"}")
        for line in result.lines
    )
    shown = {
        name
        for line in result.lines
        if "<|action_sep|>" in line
        for name in re.findall(r'"(\w+)": ', line.split("<|action_sep|>")[0])
    }
    assert shown == {"settings", "rows", "scaled", "self", "factor", "row", "i"}
    assert result.lines[-3] == '<|frame_sep|><|exception_sep|><|action_sep|>print(rows[10]["value"])'
    assert result.lines[-2].startswith("<|arg_sep|>\"(<class 'IndexError'>, IndexError('list index out of range')")
    assert result.trace.endswith('<|return_sep|><|action_sep|>print(rows[10]["value"])\n<|arg_sep|>"None"<|frame_sep|>')


def test_exit_code_and_arguments_as_plain(script, traced, plain) -> None:
    path = script("""
        import sys
        print("args", sys.argv[1:])
        sys.exit(3)
    """)
    result = traced(path, "--", "a", "--b")
    assert result.process.stdout == "args ['a', '--b']\n"
    assert result.process.returncode == plain(path).returncode == 3
    assert result.meta["raised"] is False
    assert result.meta["exit_code"] == 3


def test_syntax_error_reported_as_plain(script, traced, plain) -> None:
    path = script("x = (\n")
    expected = plain(path)
    result = traced(path)
    assert result.process.returncode == expected.returncode == 1
    assert result.process.stderr == expected.stderr
    assert result.trace == "<|frame_sep|>"
    assert result.meta["entry_reached"] is False


def test_functions_pickle_for_multiprocessing(script, traced, plain) -> None:
    path = script("""
        import multiprocessing
        import pickle

        def square(x):
            return x * x

        if __name__ == "__main__":
            assert pickle.loads(pickle.dumps(square)) is square
            with multiprocessing.get_context("fork").Pool(2) as pool:
                print(pool.map(square, range(5)))
            # a spawned child imports the script again as __mp_main__ to find square
            with multiprocessing.get_context("spawn").Pool(1) as pool:
                print(pool.map(square, range(3)))
    """)
    expected = plain(path)
    result = traced(path)
    assert expected.stdout == "[0, 1, 4, 9, 16]\n[0, 1, 4]\n"
    assert result.process.stdout == expected.stdout, result.process.stderr
    assert result.process.returncode == 0
    # forked workers stop tracing: the trace is the parent's only, written once
    assert result.trace.count("<|call_sep|>{}<|action_sep|>import multiprocessing") == 1
    assert result.trace.endswith('<|arg_sep|>"None"<|frame_sep|>')


def test_entry_option_traces_first_call_only(script, traced) -> None:
    path = script("""
        class Model:
            def fit(self, n):
                total = 0
                for i in range(n):
                    total += i
                return total

        def helper(x):
            return x + 1

        m = Model()
        print(m.fit(3), m.fit(4), helper(1))
    """)
    result = traced(path, "--entry", "Model.fit")
    assert result.process.stdout == "3 6 2\n"
    assert result.lines[0] == '<|frame_sep|><|call_sep|>{"self": "' + result.lines[0].split('"self": "')[1]
    assert result.lines[0].endswith('"n": "3"}<|action_sep|>    def fit(self, n):')
    assert result.lines[-1] == '<|arg_sep|>"3"<|frame_sep|>'
    assert "helper" not in result.trace
    assert '"n": "4"' not in result.trace
    assert result.meta["entry"] == "fit"
    assert result.meta["entry_source"] == "option"
    assert result.meta["entry_finished"] is True


def test_unknown_entry_is_an_error(script, traced) -> None:
    result = traced(script("print('hi')\n"), "--entry", "nope")
    assert result.process.returncode == 2
    assert "no function named 'nope'" in result.process.stderr
    assert result.process.stdout == ""
    assert result.meta["error"].startswith("no function named")


def test_negative_cap_is_an_error(script, traced) -> None:
    result = traced(script("print('hi')\n"), "--max-frames", "-1")
    assert result.process.returncode == 2
    assert "--max-frames must be 0" in result.process.stderr


def test_marked_function_called_by_script(script, traced) -> None:
    path = script("""
        def work(n):
            return [i * 2 for i in range(n)]

        def main():  # << START_OF_TRACE
            return work(3)

        if __name__ == "__main__":
            print(main(), main())
    """)
    result = traced(path)
    assert result.process.stdout == "[0, 2, 4] [0, 2, 4]\n"
    assert result.lines[0] == "<|frame_sep|><|call_sep|>{}<|action_sep|>def main():  # << START_OF_TRACE"
    assert result.trace.count("<|call_sep|>{}<|action_sep|>def main():") == 1
    assert result.lines[-1] == '<|arg_sep|>"[0, 2, 4]"<|frame_sep|>'
    assert "entry_called_by_tracer" not in result.meta


def test_meta_describes_the_trace(script, traced) -> None:
    result = traced(script("x = 1\ny = [x] * 3\n"), "--max-value-chars", "50")
    meta = result.meta
    assert meta["complete"] is True
    assert meta["tracer"] == "cwm_tracer"
    assert meta["python"].count(".") == 2
    assert meta["script"].endswith("runfile.py")
    assert meta["settings"] == {"max_frames": 20000, "max_bytes": 20000000, "max_seconds": 60.0, "max_value_chars": 50}
    assert meta["frames_total"] == meta["frames_written"] == 4
    assert meta["frames_dropped"] == 0
    assert meta["first_kept"] == [1, 4]
    assert meta["last_kept"] is None
    assert meta["caps_fired"] == []
    assert meta["stopped_by_time"] is False
    assert meta["raised"] is False
    assert meta["exit_code"] == 0
    assert meta["bytes"] == len(result.trace.encode())
    assert meta["wall_seconds"] >= 0


def test_script_changing_folder_still_gets_its_meta(script, tracer_path, tmp_path) -> None:
    (tmp_path / "elsewhere").mkdir()
    path = script("import os\nos.chdir('elsewhere')\nprint(os.getcwd().endswith('elsewhere'))\n")
    process = subprocess.run(
        [sys.executable, str(tracer_path), path.name, "--out", "t.cwm", "--meta", "t.json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert process.stdout == "True\n"
    assert json.loads((tmp_path / "t.json").read_text())["complete"] is True
    assert (tmp_path / "t.cwm").read_text().endswith('<|arg_sep|>"None"<|frame_sep|>')
