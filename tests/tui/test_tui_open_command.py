"""`nodefix open` refuses bad settings with one line and exit code 2, before taking over the terminal."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

NODEFIX = str(Path(sys.executable).with_name("nodefix"))


def run_open(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [NODEFIX, "open", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def test_unknown_theme_flag(make_dataset, tmp_path: Path) -> None:
    done = run_open(str(make_dataset()), "--theme", "neon", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "nodefix: ui.theme / --theme: unknown theme 'neon' (one of: dark, high-contrast, light)"
    )


def test_unknown_binding_id_in_the_project_file(make_dataset, tmp_path: Path) -> None:
    dataset = make_dataset()
    (dataset.parent / "nodefix.toml").write_text('[ui.keys]\n"row.explode" = "x"\n')
    done = run_open(str(dataset), cwd=tmp_path)
    assert done.returncode == 2
    assert "[ui.keys]: unknown binding id 'row.explode'" in done.stderr
    assert not (tmp_path / "dataset.nodefix").exists()  # refused before making a workspace
