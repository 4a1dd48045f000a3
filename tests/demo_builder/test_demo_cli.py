"""``nodefix demo``, ``ensure_demo`` and the builder's refusals."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from demo import DemoPaths, build_demo, ensure_demo
from demo.catalogue import row_by_name
from tui.cli import main
from workspace.config import RunSettings
from workspace.errors import InputError
from workspace.store import open_workspace

NODEFIX = Path(sys.executable).with_name("nodefix")


def _network_namespace_works() -> bool:
    return (
        shutil.which("unshare") is not None
        and subprocess.run(["unshare", "--net", "true"], capture_output=True, timeout=20).returncode == 0
    )


@pytest.fixture
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    return dict(os.environ)


@pytest.mark.skipif(not _network_namespace_works(), reason="unshare --net is not allowed here")
def test_cli_builds_the_demo_with_no_network_at_all(tmp_path: Path, isolated_env: dict[str, str]) -> None:
    """The whole build runs in a network namespace with only loopback: nothing can leave the machine."""
    out = tmp_path / "my demo"
    done = subprocess.run(
        ["unshare", "--net", str(NODEFIX), "demo", str(out)],
        capture_output=True,
        text=True,
        timeout=90,
        env=isolated_env,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert f"next:      nodefix open '{out / 'demo.parquet'}'" in done.stdout
    assert "nodefix: recorded 14/14 " in done.stderr
    table = {r["id"]: "".join(r["_term_out"]) for r in pq.read_table(out / "demo.parquet").to_pylist()}
    assert re.search(
        r"URLError: <urlopen error .*(name resolution|Network is unreachable)",
        table[row_by_name("nlp-glove-download").id],
    )


def test_cli_refuses_a_folder_holding_a_workspace(
    demo: DemoPaths, tmp_path: Path, isolated_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "demo"
    shutil.copytree(demo.dataset.parent, folder)
    open_workspace(folder / "demo.parquet").close()
    before = (folder / "demo.parquet").stat().st_mtime_ns
    assert main(["demo", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "holds a nodefix workspace" in err
    assert "--force" in err
    assert len(err.strip().splitlines()) == 1
    assert (folder / "demo.parquet").stat().st_mtime_ns == before


def test_cli_refuses_a_folder_with_other_files(
    tmp_path: Path, isolated_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    assert main(["demo", str(tmp_path)]) == 2
    assert "holds other files (notes.txt" in capsys.readouterr().err
    assert not (tmp_path / "demo.parquet").exists()


def test_cli_refuses_a_file(tmp_path: Path, isolated_env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "demo"
    target.write_text("")
    assert main(["demo", str(target)]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err


def test_ensure_demo_keeps_a_built_demo(demo: DemoPaths) -> None:
    before = demo.dataset.stat().st_mtime_ns
    assert ensure_demo(demo.dataset.parent) == demo.dataset
    assert demo.dataset.stat().st_mtime_ns == before


def test_ensure_demo_rebuilds_an_incomplete_default_demo(
    demo: DemoPaths, tmp_path: Path, isolated_env: dict[str, str]
) -> None:
    default = tmp_path / "xdg-data" / "nodefix" / "demo"
    shutil.copytree(demo.dataset.parent, default)
    missing = default / "data" / "leaf-classification" / "prepared" / "public" / "test.csv"
    missing.unlink()
    assert ensure_demo() == default / "demo.parquet"
    assert missing.read_bytes() == (demo.data_root / "leaf-classification/prepared/public/test.csv").read_bytes()
    assert (
        pq.read_table(default / "demo.parquet").column("id").to_pylist()
        == pq.read_table(demo.dataset).column("id").to_pylist()
    )


def test_build_refuses_an_interpreter_that_is_not_there(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="python not found"):
        build_demo(tmp_path / "demo", settings=RunSettings(python=str(tmp_path / "no-python")))
    assert not (tmp_path / "demo").exists()


PLAIN_PYTHON = shutil.which("python3", path="/usr/bin")


@pytest.mark.skipif(
    PLAIN_PYTHON is None
    or subprocess.run([PLAIN_PYTHON or "", "-c", "import pandas"], capture_output=True).returncode == 0,
    reason="needs a python without pandas",
)
def test_build_refuses_an_interpreter_without_pandas(tmp_path: Path) -> None:
    with pytest.raises(
        InputError,
        match=r"row 'spaceship-input-path' should end with FileNotFoundError "
        r"but its run ended with ModuleNotFoundError",
    ):
        build_demo(tmp_path, settings=RunSettings(python=PLAIN_PYTHON))
    assert not (tmp_path / "demo.parquet").exists()
