"""The README's configuration block, copied as printed into the user's config file, is what nodefix reads."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from workspace.config import PROJECT_FILE, Config, load_config
from workspace.errors import InputError

README = Path(__file__).resolve().parents[2] / "README.md"
NODEFIX = str(Path(sys.executable).with_name("nodefix"))


def readme_config_block() -> str:
    """The ```toml block under "## Configuration", exactly as the README prints it."""
    section = README.read_text(encoding="utf-8").split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    found = re.search(r"^```toml\n(.*?)^```$", section, re.DOTALL | re.MULTILINE)
    assert found, "README.md: no ```toml block under ## Configuration"
    return found.group(1)


@pytest.fixture
def readme_user_config(isolated_user_config: Path) -> Path:
    isolated_user_config.parent.mkdir(parents=True)
    isolated_user_config.write_text(readme_config_block(), encoding="utf-8")
    return isolated_user_config


def test_the_block_reads_as_the_defaults_it_documents(readme_user_config, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("NODEFIX_ANNOTATOR", "alice")
    config = load_config(cwd=tmp_path)
    assert config.sources == [readme_user_config]
    assert config.cluster.time_limit == 0.0  # "0 = run.time_limit + 5 minutes"
    assert config.run.time_limit == 360.0
    assert config.ui.annotator == "alice"  # annotator = "": "default: $NODEFIX_ANNOTATOR or $USER"
    defaults = Config()
    for section in ("run", "grade", "trace", "cluster"):
        assert getattr(config, section) == getattr(defaults, section), section
    assert config.ui.keys == {"row.reject": "X"}  # the block's one example beyond the defaults


def test_every_command_works_with_the_block_as_the_users_config(readme_user_config, make_dataset) -> None:
    dataset = make_dataset([{}])
    version = subprocess.run([NODEFIX, "--version"], capture_output=True, text=True, timeout=60)
    assert (version.returncode, version.stderr) == (0, "")
    rows = subprocess.run([NODEFIX, "rows", str(dataset)], capture_output=True, text=True, timeout=60)
    assert rows.returncode == 0, rows.stderr
    assert "row-0" in rows.stdout
    doctor = subprocess.run([NODEFIX, "doctor"], capture_output=True, text=True, timeout=120)
    assert doctor.returncode in (0, 1), doctor.stderr  # 1: something here is broken, but the config is read
    assert f"files read: {readme_user_config}" in doctor.stdout


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[run]\ntime_limit = 0\n", "run.time_limit must be a finite number of seconds above 0, not 0.0"),
        (
            "[cluster]\ntime_limit = -1\n",
            "cluster.time_limit must be 0 (the run's time limit plus 5 minutes) or a finite number of seconds "
            "above 0, not -1.0",
        ),
        ("[cluster]\ntime_limit = nan\n", "cluster.time_limit must be 0"),
        ('[cluster]\ntime_limit = "soon"\n', "cluster.time_limit must be a number, not 'soon'"),
        ("[cluster]\nmax_jobs = 1.5\n", "cluster.max_jobs must be a whole number, not 1.5"),
        ("[cluster]\nexecutor = 1\n", "cluster.executor must be a string, not 1"),
        ('[trace]\nmax_seconds = "x"\n', "trace.max_seconds must be a number"),
        ("[ui]\ntheme = 3\n", "ui.theme must be a string"),
        ("[cluster]\nwall = 1\n", "unknown setting 'wall' in [cluster]"),
    ],
)
def test_messages_name_the_section_and_the_key(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / PROJECT_FILE).write_text(text)
    with pytest.raises(InputError) as caught:
        load_config(cwd=tmp_path)
    assert str(caught.value).startswith(f"{tmp_path / PROJECT_FILE}: ")
    assert message in str(caught.value)
    assert "?." not in str(caught.value)


def test_a_positive_cluster_time_limit_is_kept(tmp_path: Path) -> None:
    (tmp_path / PROJECT_FILE).write_text("[cluster]\ntime_limit = 900\n[run]\ntime_limit = 60\n")
    config = load_config(cwd=tmp_path)
    assert (config.cluster.time_limit, config.run.time_limit) == (900.0, 60.0)
