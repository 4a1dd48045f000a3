"""Fixtures shared by every test folder."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from polling import poll_until

BASE_ROW = {
    "plan": "Train a classifier on the tabular features.",
    "competition_id": "spaceship-titanic",
    "analysis": "The script fails while reading the data.",
    "code": "import pandas as pd\ntrain = pd.read_csv('./input/train.csv')\nprint(train.shape)\n",
    "_term_out": [
        "Traceback (most recent call last):\n",
        '  File "runfile.py", line 2, in <module>\n',
        "    train = pd.read_csv('./input/train.csv')\n",
        "FileNotFoundError: [Errno 2] No such file or directory: './input/train.csv'\n",
        "Execution time: a moment seconds (time limit is an hour).",
    ],
    "exec_time": 0.4,
}


@pytest.fixture(autouse=True)
def isolated_user_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keep the user's own nodefix config out of every test; returns where a test may write one."""
    home = tmp_path / "xdg-config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    return home / "nodefix" / "config.toml"


@pytest.fixture
def wait_until() -> Callable[..., bool]:
    """``wait_until(condition, seconds=15)``: see polling.poll_until."""
    return poll_until


def write_dataset(path: Path, rows: list[dict], schema: pa.Schema | None = None) -> Path:
    """A parquet in the client's format; each row is BASE_ROW with the given keys replaced."""
    full = [{**BASE_ROW, "id": f"row-{i}", **row} for i, row in enumerate(rows)]
    columns = {key: [r[key] for r in full] for key in full[0]}
    pq.write_table(pa.table(columns, schema=schema), path)
    return path


@pytest.fixture
def make_dataset(tmp_path: Path) -> Callable[..., Path]:
    """``make_dataset([{"code": ...}, ...])`` writes ``dataset.parquet`` in tmp_path and returns its path."""

    def make(rows: list[dict] | None = None, name: str = "dataset.parquet", schema: pa.Schema | None = None) -> Path:
        return write_dataset(tmp_path / name, rows if rows is not None else [{}], schema)

    return make


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory):
    """The bundled demo, built once per test run (shared by the xdist workers); open workspaces on it
    under tmp_path, never beside it."""
    from demo.builder import build_demo, demo_paths, is_built

    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # the run's base folder, above each worker's own
    out = shared / "demo"
    with (shared / "demo.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the first worker builds, the others wait and reuse it
        return demo_paths(out) if is_built(out) else build_demo(out)


@pytest.fixture
def small_tmpfs(tmp_path: Path):
    """A 4 MiB tmpfs mounted for the test (root only), and ``fill()`` that takes all its space; unmounted after."""
    import subprocess

    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mount = tmp_path / "small-disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], check=True, timeout=10)

    class Disk:
        path = mount
        filler = mount / "filler"

        def fill(self) -> None:
            with open(self.filler, "wb") as f:
                try:
                    while True:
                        f.write(b"\0" * 65536)
                        f.flush()
                except OSError:
                    pass

        def free(self) -> None:
            self.filler.unlink(missing_ok=True)

    try:
        yield Disk()
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False, timeout=10)
