"""Output streams as in a terminal, reaches the listener during the run, and the log keeps every byte."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.run_env import THREAD_VARIABLES

THREADS = list(THREAD_VARIABLES)

pytestmark = pytest.mark.timeout(60)


@pytest.mark.parametrize("backend", ["bubblewrap", "local"])
def test_lines_reach_the_listener_before_the_run_ends(run_code, backend):
    # The second line only comes after the test has seen the first one and answered.
    code = (
        "import os, time\n"
        "print('first', flush=True)\n"
        "deadline = time.time() + 10\n"
        "while not os.path.exists('go') and time.time() < deadline:\n"
        "    time.sleep(0.01)\n"
        "print('second' if os.path.exists('go') else 'never answered')\n"
    )

    def answer(printed: str, scratch: Path) -> None:
        if "first" in printed and not (scratch / "go").exists():
            (scratch / "go").write_text("")

    run = run_code(code, backend, on_chunk=answer)
    assert run.printed == "first\nsecond\n"


@pytest.mark.parametrize("backend", ["bubblewrap", "local"])
def test_the_log_holds_exactly_the_bytes_printed(run_code, backend):
    # Carriage returns, a partial last line, stderr, and bytes that are not UTF-8.
    code = (
        "import sys\n"
        "for i in range(3):\n"
        "    sys.stdout.write(f'\\rprogress {i}/3')\n"
        "    sys.stdout.flush()\n"
        "print()\n"
        "sys.stderr.write('warning: é\\n')\n"
        "sys.stdout.buffer.write(b'raw \\xff\\xfe end')\n"
    )
    run = run_code(code, backend)
    expected = b"\rprogress 0/3\rprogress 1/3\rprogress 2/3\nwarning: \xc3\xa9\nraw \xff\xfe end"
    assert run.result.log_path.read_bytes() == expected
    assert run.printed == expected.decode("utf-8", errors="replace")
    assert run.result.output_tail == expected.decode("utf-8", errors="replace")


def test_the_script_sees_a_terminal_and_a_clean_environment(run_code):
    code = (
        "import os, sys\n"
        "print(sys.stdout.isatty(), os.get_terminal_size().columns >= 120)\n"
        "print(sorted(k for k in os.environ if k not in ('PWD', 'LC_CTYPE')))\n"
        "print(os.environ['HOME'] == os.getcwd(), sorted(os.listdir('data')))\n"
    )
    run = run_code(code, "bubblewrap", spec_changes={"env": {"EXTRA": "1"}})
    lines = run.printed.splitlines()
    assert lines[0] == "True True"
    assert lines[1] == str(
        sorted(["EXTRA", "HOME", "LANG", "MPLBACKEND", "NODEFIX_TEST_MARK", "PATH", "PYTHONUNBUFFERED"] + THREADS)
    )
    assert lines[2] == "True ['sample_submission.csv', 'test.csv', 'train.csv']"


def test_extra_files_and_read_only_binds_sit_beside_the_script(run_code, tmp_path):
    shared = tmp_path / "shared-tool"
    shared.mkdir()
    (shared / "helper.txt").write_text("from the host")
    code = (
        "print(open('notes.txt').read())\n"
        "print(open('tool/helper.txt').read())\n"
        "try:\n"
        "    open('tool/new.txt', 'w')\n"
        "except OSError as exc:\n"
        "    print('read-only', exc.errno)\n"
    )
    run = run_code(
        code, "bubblewrap", spec_changes={"extra_files": {"notes.txt": b"beside"}, "read_only_binds": {"tool": shared}}
    )
    assert run.printed.splitlines() == ["beside", "from the host", "read-only 30"]
    assert sorted(p.name for p in shared.iterdir()) == ["helper.txt"]
