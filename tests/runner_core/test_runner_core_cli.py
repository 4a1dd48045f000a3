"""``nodefix run`` and ``nodefix doctor`` through the real CLI, on a real workspace and real bubblewrap."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runner.devices import gpu_indices
from tui.cli import main
from workspace.config import RunSettings
from workspace.store import open_workspace

pytestmark = pytest.mark.timeout(60)

BUGGY = "import csv\ntrain = next(csv.DictReader(open('./data/train.csv')))\nprint(train['label'])\n"
RECORDED = (
    'Traceback (most recent call last):\n  File "runfile.py", line 3, in <module>\n'
    "    print(train['label'])\nKeyError: 'label'\nExecution time: a moment seconds (time limit is an hour)."
)
FIXED = "import shutil\nshutil.copy('./data/sample_submission.csv', 'submission.csv')\nprint('saved')\n"


@pytest.fixture
def dataset(make_dataset, data_root, tmp_path, monkeypatch) -> Path:
    """A one-row dataset for the tiny competition, with a nodefix.toml beside it pointing at the test data."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "nodefix.toml").write_text(
        f'[run]\nbackend = "bubblewrap"\ndata_root = "{data_root}"\nmemory_limit = "4G"\n'
    )
    return make_dataset([{"competition_id": "tiny-competition", "code": BUGGY, "_term_out": [RECORDED]}])


def test_run_streams_the_output_stores_the_run_and_matches_the_recorded_error(dataset, capsys):
    assert main(["run", str(dataset), "--id", "row-0"]) == 0
    out, err = capsys.readouterr()
    assert "KeyError: 'label'" in out.split("row-0 step 0")[0]  # streamed before the verdict line
    verdict_line, log_line = out.strip().splitlines()[-2:]
    assert verdict_line.startswith("row-0 step 0 (original) run 1: error: KeyError: 'label' at line 3")
    assert "[same error as recorded]" in verdict_line
    assert log_line.strip().endswith("output.log")
    assert "nodefix: workspace" in err
    with open_workspace(dataset) as ws:
        runs = ws.runs("row-0", 0)
    assert [(r.purpose, r.kind, r.match) for r in runs] == [("original", "error", "same")]


def test_run_a_fix_from_a_file_as_json(dataset, tmp_path, capsys):
    fix = tmp_path / "fix.py"
    fix.write_text(FIXED)
    assert main(["run", str(dataset), "--id", "row-0", "--code", str(fix), "--json"]) == 0
    out, err = capsys.readouterr()
    record = json.loads(out)  # stdout holds only the record; the script's output went to stderr
    assert record["purpose"] == "fix"
    assert record["verdict"]["kind"] == "clean"
    assert record["submission_written"] is True
    assert "saved" in err
    with open_workspace(dataset) as ws:
        assert ws.step("row-0", 0).verification.kind == "clean"


def test_quiet_does_not_stream(dataset, capsys):
    assert main(["run", str(dataset), "--id", "row-0", "--quiet", "--time-limit", "30"]) == 0
    out, _ = capsys.readouterr()
    assert out.count("\n") == 2
    assert out.startswith("row-0 step 0 (original) run 1: error")


def test_a_run_that_cannot_start_is_stored_as_environment_and_exits_1(dataset, tmp_path, capsys):
    (tmp_path / "nodefix.toml").write_text(f'[run]\ndata_root = "{tmp_path / "nowhere"}"\n')
    assert main(["run", str(dataset), "--id", "row-0"]) == 1
    out, _ = capsys.readouterr()
    assert "environment: the sandbox failed: no prepared data for 'tiny-competition'" in out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--id", "nope"], "nope"),
        (["--id", "row-0", "--step", "3"], "no debug step 3"),
        (["--id", "row-0", "--time-limit", "0"], "--time-limit must be more than 0"),
        (["--id", "row-0", "--code", "missing.py"], "missing.py: cannot read the code to run"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(dataset, capsys, extra, message):
    assert main(["run", str(dataset), *extra]) == 2
    _, err = capsys.readouterr()
    line = err.strip().splitlines()[-1]
    assert line.startswith("nodefix: ")
    assert message in line


def test_doctor_reports_backends_data_network_and_settings(dataset, capsys):
    assert main(["doctor", str(dataset)]) == 0
    out, _ = capsys.readouterr()
    lines = {line.split()[1]: line for line in out.strip().splitlines()}
    assert lines["bubblewrap"].startswith("ok ")
    assert "network cut" in lines["bubblewrap"]
    assert "Python 3." in lines["bubblewrap"]
    assert "NOT a container" in lines["local"]
    assert lines["apptainer"].startswith("off ")  # optional, not configured: not broken
    assert "run.image" in lines["apptainer"]
    assert "runs use bubblewrap" in lines["backend"]
    assert "tiny-competition" in lines["data"]
    assert "./data of tiny-competition in a bubblewrap sandbox: 3 files" in lines["data"]
    assert lines["data"].startswith("ok ")
    if not gpu_indices(RunSettings()):
        assert "no GPU on this machine" in lines["gpu"]
        assert out.count("GPU") == 1  # said once
    assert "grade.checkout" in lines["grade"]
    assert lines["grade"].startswith("off ")
    assert out.strip().splitlines()[-1] == "nothing broken (optional parts are marked 'off')"
    assert str(dataset.parent / "nodefix.toml") in lines["config"]


def test_doctor_names_data_a_sandbox_cannot_read(dataset, data_root, tmp_path, capsys):
    public = data_root / "tiny-competition" / "prepared" / "public"
    (public / "gone.csv").symlink_to(tmp_path / "nowhere.csv")
    assert main(["doctor", str(dataset)]) == 1  # data a run cannot read is broken
    data = next(line for line in capsys.readouterr().out.splitlines() if line.split()[1] == "data")
    assert data.startswith("FAIL")
    assert "4 files, 1 unreadable (data/gone.csv FileNotFoundError" in data


def test_ctrl_c_cancels_the_run_and_stores_it(dataset, tmp_path, wait_until):
    import os
    import signal
    import subprocess
    import sys

    slow = tmp_path / "slow.py"
    slow.write_text("import time\nprint('ready', flush=True)\ntime.sleep(60)\n")
    nodefix = Path(sys.executable).parent / "nodefix"
    out_path = tmp_path / "out.txt"
    with open(out_path, "wb") as out:
        process = subprocess.Popen(
            [str(nodefix), "run", str(dataset), "--id", "row-0", "--code", str(slow)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ},
        )
        try:
            assert wait_until(lambda: b"ready" in out_path.read_bytes(), seconds=20)
            process.send_signal(signal.SIGINT)
            assert process.wait(timeout=20) == 0
        finally:
            if process.poll() is None:
                process.kill()
    assert "(fix) run 1: cancelled" in out_path.read_text()
    with open_workspace(dataset) as ws:
        assert [r.kind for r in ws.runs("row-0", 0)] == ["cancelled"]


HOSTILE_OUTPUT = (
    "print('\\x1b]0;owned\\x07\\x1b[2Jcleared\\x1b[31mred\\x1b[0m\\x9b1m')\n"
    "raise KeyError('\\x1b]52;c;cm0gLXJm\\x07')\n"
)


def test_escape_sequences_in_output_and_ids_never_reach_the_terminal(
    make_dataset, data_root, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "nodefix.toml").write_text(f'[run]\nbackend = "bubblewrap"\ndata_root = "{data_root}"\n')
    dataset = make_dataset(
        [{"id": "row\x1b[2J-1", "competition_id": "tiny-competition", "code": HOSTILE_OUTPUT, "_term_out": ["x"]}]
    )
    assert main(["run", str(dataset), "--id", "row\x1b[2J-1"]) == 0
    assert main(["rows", str(dataset)]) == 0
    out, err = capsys.readouterr()
    for text in (out, err):
        assert "\x1b" not in text
        assert "\x07" not in text
        assert "\x9b" not in text
    assert "clearedred" in out
    assert "row-1" in out.splitlines()[-1]  # the rows table, its id neutralised


def test_run_without_step_runs_the_last_step_and_takes_an_id_prefix(dataset, tmp_path, capsys):
    fix = tmp_path / "fix.py"
    fix.write_text("raise LookupError('the next bug')\n")
    assert main(["run", str(dataset), "--id", "row", "--code", str(fix), "--quiet"]) == 0  # step 0's fix: a new error
    assert main(["annotate", str(dataset), "--id", "row-", "--new-step"]) == 0
    assert main(["run", str(dataset), "--id", "ro", "--quiet"]) == 0
    out, _ = capsys.readouterr()
    assert "row-0 step 1 (original) run 2: error: LookupError" in out  # step 1 starts from step 0's fix
    with open_workspace(dataset) as ws:
        assert [r.step for r in ws.runs("row-0")] == [0, 1]


def test_doctor_exits_1_for_a_broken_part_and_names_a_wrong_mlebench_checkout(dataset, data_root, tmp_path, capsys):
    (tmp_path / "checkout").mkdir()
    (tmp_path / "nodefix.toml").write_text(
        f'[run]\nbackend = "apptainer"\ndata_root = "{data_root}"\n'
        f'[ui]\nmlebench_checkout = "{tmp_path / "checkout"}"\n'
    )
    assert main(["doctor", str(dataset)]) == 1
    out, _ = capsys.readouterr()
    lines = {line.split()[1]: line for line in out.strip().splitlines()}
    assert lines["apptainer"].startswith("FAIL")  # the configured backend: broken, not optional
    assert lines["descriptions"].startswith("FAIL")
    assert "not an mle-bench checkout, it has no mlebench/competitions/" in lines["descriptions"]
    assert out.strip().splitlines()[-1] == "broken: apptainer, descriptions"


def test_doctor_checks_the_checkout_has_the_datasets_descriptions(dataset, tmp_path, capsys):
    checkout = tmp_path / "checkout"
    (checkout / "mlebench" / "competitions" / "other").mkdir(parents=True)
    (tmp_path / "nodefix.toml").write_text(f'[ui]\nmlebench_checkout = "{checkout}"\n')
    main(["doctor", str(dataset)])
    out, _ = capsys.readouterr()
    line = next(line for line in out.splitlines() if " descriptions " in line)
    assert line.startswith("FAIL")
    assert "no description.md for any of this dataset's competitions" in line
    description = checkout / "mlebench" / "competitions" / "tiny-competition" / "description.md"
    description.parent.mkdir()
    description.write_text("# tiny\n")
    main(["doctor", str(dataset)])
    out, _ = capsys.readouterr()
    assert f"ok   descriptions  competition descriptions from {checkout}" in out
