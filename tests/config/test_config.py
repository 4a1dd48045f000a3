"""Configuration files merge in order, resolve relative paths and reject bad settings in one line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from workspace.config import PROJECT_FILE, load_config
from workspace.errors import InputError


def test_defaults_without_files(tmp_path: Path) -> None:
    config = load_config(cwd=tmp_path)
    assert config.run.time_limit == 360.0
    assert config.run.data_root == Path("~/.cache/mle-bench/data").expanduser()
    assert config.sources == []


def test_later_files_win_key_by_key(tmp_path: Path, isolated_user_config: Path) -> None:
    isolated_user_config.parent.mkdir(parents=True)
    isolated_user_config.write_text('[run]\ntime_limit = 100\nbackend = "local"\n[ui]\ntheme = "light"\n')
    project = tmp_path / "project"
    project.mkdir()
    (project / PROJECT_FILE).write_text('[run]\ntime_limit = 30\ndata_root = "data"\n')
    config = load_config(dataset=project / "demo.parquet", cwd=tmp_path)
    assert config.run.time_limit == 30.0
    assert config.run.backend == "local"
    assert config.ui.theme == "light"
    assert config.run.data_root == (project / "data").resolve()
    assert config.sources == [isolated_user_config, project / PROJECT_FILE]


def test_key_tables_merge(tmp_path: Path) -> None:
    (tmp_path / PROJECT_FILE).write_text('[ui.keys]\n"row.reject" = "x"\n')
    assert load_config(cwd=tmp_path).ui.keys == {"row.reject": "x"}


def test_overrides_skip_missing_flags(tmp_path: Path) -> None:
    config = load_config(cwd=tmp_path).with_overrides(run={"time_limit": 5, "backend": None})
    assert config.run.time_limit == 5.0
    assert config.run.backend == "auto"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[run\n", "not a readable TOML file"),
        ("[runner]\nx = 1\n", "unknown section [runner]"),
        ("[run]\ntimeout = 5\n", "unknown setting 'timeout' in [run]"),
        ('[run]\ntime_limit = "soon"\n', "run.time_limit must be a number"),
        ('[run]\ngpu = "yes"\n', "run.gpu must be true or false"),
        ("[run]\nbackend = 3\n", "run.backend must be a string"),
        ("[run]\ngpus_per_job = -1\n", "gpus_per_job must be 0 (every job sees all GPUs) or more"),
        ("[run]\nthreads = -2\n", "threads must be -1 (no budget), 0 (automatic) or more"),
        ("[run]\nthreads = 1.5\n", "run.threads must be a whole number"),
        ("[run]\nenv = 3\n", "[run.env] must be a table"),
        ('[run.env]\n"A=B" = "1"\n', "env: 'A=B' is not a variable name"),
        ("[run.env]\nA = [1]\n", "[run.env] values must be strings or numbers"),
    ],
)
def test_bad_settings_name_the_file(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / PROJECT_FILE).write_text(text)
    with pytest.raises(InputError) as excinfo:
        load_config(cwd=tmp_path)
    assert str(tmp_path / PROJECT_FILE) in str(excinfo.value)
    assert message in str(excinfo.value)
    assert "\n" not in str(excinfo.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[run]\ntime_limit = inf\n", "run.time_limit must be a finite number of seconds above 0"),
        ("[run]\ntime_limit = -5\n", "run.time_limit must be a finite number of seconds above 0"),
        ('[run]\nmemory_limit = "1M"\n', "run.memory_limit must be at least 64 MiB"),
        ("[run]\nmax_processes = 0\n", "run.max_processes must be at least 1"),
        ('[run]\nscratch_limit = "lots"\n', "run.scratch_limit: 'lots' is not a size"),
        ("[trace]\nmax_bytes = -1\n", "trace.max_bytes must be 0 (no cap)"),
        ('[run]\ndata_root = "nodefix.toml"\n', "run.data_root must be a folder"),
    ],
)
def test_values_out_of_range_name_the_key_and_the_file(tmp_path, text, message):
    project = tmp_path / "nodefix.toml"
    project.write_text(text)
    with pytest.raises(InputError, match=re.escape(message)) as caught:
        load_config(cwd=tmp_path)
    assert str(caught.value).startswith(str(project))


def test_a_relative_interpreter_is_relative_to_its_file_and_keeps_its_symlink(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    (project / "nodefix.toml").write_text('[run]\npython = "../venv/bin/python"\n[trace]\nclient_python = "python3"\n')
    config = load_config(cwd=project)
    assert config.run.python == str(tmp_path / "venv" / "bin" / "python")
    assert config.trace.client_python == "python3"  # a bare name is looked up on PATH, as before


def test_env_table_reads_numbers_and_flags(tmp_path: Path) -> None:
    (tmp_path / PROJECT_FILE).write_text("[run.env]\nOMP_NUM_THREADS = 1\nTF_DETERMINISTIC = true\n")
    assert load_config(cwd=tmp_path).run.env == {"OMP_NUM_THREADS": "1", "TF_DETERMINISTIC": "1"}
