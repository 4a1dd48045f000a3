"""split and merge with real workspaces: shards annotated by two processes, a conflict, a missing shard."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tui.cli import main
from workspace.dataset import load_dataset
from workspace.shards import assign_parts
from workspace.validate import validate_deliverable

pytestmark = pytest.mark.timeout(120)

COMPETITIONS = ("spaceship-titanic", "leaf-classification", "nlp-getting-started")


def team_rows(n: int = 17) -> list[dict]:
    return [
        {"id": f"r{i:02d}", "competition_id": COMPETITIONS[i % 3], "exec_time": float((i * 7) % 11) + 0.5}
        for i in range(n)
    ]


def nodefix(*argv: str, annotator: str = "alice") -> subprocess.Popen:
    env = {**os.environ, "NODEFIX_ANNOTATOR": annotator}
    return subprocess.Popen(
        [sys.executable, "-m", "tui", *argv], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def finished(*processes: subprocess.Popen) -> None:
    for process in processes:
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, (out, err)


def shard_ids(folder: Path, part: int) -> list[str]:
    return pq.read_table(folder / f"part-{part}" / "dataset.parquet").column("id").to_pylist()


def test_split_deals_every_row_once_balanced_and_stable(tmp_path: Path, make_dataset, capsys) -> None:
    source = make_dataset(team_rows(), "batch.parquet")
    (tmp_path / "nodefix.toml").write_text('[run]\ndata_root = "data"\ntime_limit = 30\n[ui.keys]\nquit = "ctrl+q"\n')
    assert main(["split", str(source), "--parts", "3", "--out", str(tmp_path / "team")]) == 0
    assert "part 3: " in capsys.readouterr().out
    shards = [shard_ids(tmp_path / "team", p) for p in (1, 2, 3)]
    assert sorted(sum(shards, [])) == sorted(r["id"] for r in team_rows())
    competition = {r["id"]: r["competition_id"] for r in team_rows()}
    for name in COMPETITIONS:
        per_shard = [sum(competition[i] == name for i in ids) for ids in shards]
        assert max(per_shard) - min(per_shard) <= 1, (name, per_shard)
    assert max(map(len, shards)) - min(map(len, shards)) <= 1
    copied = (tmp_path / "team" / "part-2" / "nodefix.toml").read_text()
    assert f'data_root = "{tmp_path / "data"}"' in copied
    assert '"quit" = "ctrl+q"' in copied
    # the shard's copy is a config nodefix reads, giving the source's settings
    from workspace.config import load_config

    config = load_config(tmp_path / "team" / "part-2" / "dataset.parquet")
    assert config.run.data_root == tmp_path / "data"
    assert config.run.time_limit == 30
    assert config.ui.keys == {"quit": "ctrl+q"}

    # stable by id: the same rows in another order go to the same parts
    shuffled = make_dataset(list(reversed(team_rows())), "shuffled.parquet")
    by_id = dict(zip(load_dataset(source).ids, assign_parts(load_dataset(source), 3), strict=True))
    again = dict(zip(load_dataset(shuffled).ids, assign_parts(load_dataset(shuffled), 3), strict=True))
    assert by_id == again


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--parts", "0"], "--parts must be at least 1, not 0"),
        (["--parts", "99"], "17 rows cannot fill 99 parts"),
    ],
)
def test_split_refuses_bad_part_counts(tmp_path: Path, make_dataset, capsys, argv, message) -> None:
    source = make_dataset(team_rows(), "batch.parquet")
    assert main(["split", str(source), *argv, "--out", str(tmp_path / "team")]) == 2
    assert message in capsys.readouterr().err


def test_split_refuses_to_overwrite_shards(tmp_path: Path, make_dataset, capsys) -> None:
    source = make_dataset(team_rows(), "batch.parquet")
    assert main(["split", str(source), "--parts", "2", "--out", str(tmp_path / "team")]) == 0
    assert main(["split", str(source), "--parts", "2", "--out", str(tmp_path / "team")]) == 2
    assert "part-1/dataset.parquet: already exists" in capsys.readouterr().err


@pytest.fixture
def team(tmp_path: Path, demo) -> Path:
    """The demo split in two, each shard annotated by its own process and annotator at the same time."""
    out = tmp_path / "team"
    assert main(["split", str(demo.dataset), "--parts", "2", "--out", str(out)]) == 0
    first, second = shard_ids(out, 1), shard_ids(out, 2)
    finished(
        nodefix("annotate", str(out / "part-1" / "dataset.parquet"), "--id", first[0], "--reject", "other",
                "--set", "revised_analysis=Needs the internet.", "--add-time", "40", annotator="alice"),
        nodefix("annotate", str(out / "part-2" / "dataset.parquet"), "--id", second[0], "--reject", "incomplete",
                "--set", "revised_analysis=The script stops early.", "--add-time", "25", annotator="bob"),
    )  # fmt: skip
    return out


def test_merge_keeps_every_source_row_once_with_annotator_and_time(team: Path, demo, tmp_path: Path, capsys) -> None:
    out = tmp_path / "deliverable.parquet"
    moved = tmp_path / "back-from-box-b"  # part 2 went to another box and came back elsewhere
    shutil.copytree(team / "part-2", moved)
    shutil.rmtree(team / "part-2")
    workspaces = [str(team / "part-1" / "dataset.nodefix"), str(moved / "dataset.parquet")]
    assert main(["merge", *workspaces, "--out", str(out)]) == 0
    assert "14 source rows" in capsys.readouterr().out
    merged = pq.read_table(out)
    assert merged.column("id").to_pylist() == load_dataset(demo.dataset).ids  # source order, each once
    rows = {r["id"]: r for r in merged.to_pylist()}
    first, second = shard_ids(team, 1)[0], pq.read_table(moved / "dataset.parquet").column("id")[0].as_py()
    assert (rows[first]["status"], rows[first]["annotator"], rows[first]["time_spent_seconds"]) == (
        "rejected",
        "alice",
        40.0,
    )
    assert (rows[second]["status"], rows[second]["annotator"], rows[second]["time_spent_seconds"]) == (
        "rejected",
        "bob",
        25.0,
    )
    assert Counter(rows[i]["status"] for i in rows) == {"rejected": 2, "untouched": 12}
    assert validate_deliverable(out, source=demo.dataset) == []


def test_merge_lists_a_conflict_and_takes_the_preferred_side(team: Path, tmp_path: Path, capsys) -> None:
    row = shard_ids(team, 1)[0]
    other = tmp_path / "carol.nodefix"  # a second annotator worked the same shard in a workspace of her own
    finished(
        nodefix("annotate", str(team / "part-1" / "dataset.parquet"), "--workspace", str(other), "--id", row,
                "--status", "blocked", "--set", "revised_analysis=Needs the GPU box.", annotator="carol"),
    )  # fmt: skip
    workspaces = [str(team / "part-1" / "dataset.nodefix"), str(team / "part-2" / "dataset.nodefix"), str(other)]
    out = tmp_path / "deliverable.parquet"
    assert main(["merge", *workspaces, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "merge refused: 1 problem(s)" in err
    assert f"row {row!r}: annotated in 2 workspaces: {team / 'part-1' / 'dataset.nodefix'} (rejected); " in err
    assert f"{other} (blocked) (use --prefer)" in err
    assert not out.exists()

    assert main(["merge", *workspaces, "--out", str(out), "--prefer", str(other)]) == 0
    assert "1 conflict(s) resolved by --prefer" in capsys.readouterr().out
    kept = next(r for r in pq.read_table(out).to_pylist() if r["id"] == row)
    assert (kept["status"], kept["annotator"]) == ("blocked", "carol")


def test_merge_names_the_rows_of_a_missing_shard(team: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "deliverable.parquet"
    assert main(["merge", str(team / "part-1" / "dataset.nodefix"), "--out", str(out)]) == 2
    err = capsys.readouterr().err.splitlines()
    missing = shard_ids(team, 2)
    assert err[0] == f"merge refused: {len(missing)} problem(s)"
    assert err[1:] == [
        f"row {i!r} (shard part-2): in none of the workspaces given; is a shard missing?" for i in missing
    ]
    assert not out.exists()


def test_merge_refuses_a_prefer_outside_the_merge(team: Path, tmp_path: Path, capsys) -> None:
    workspaces = [str(team / f"part-{p}" / "dataset.nodefix") for p in (1, 2)]
    code = main(["merge", *workspaces, "--out", str(tmp_path / "d.parquet"), "--prefer", str(tmp_path / "nowhere")])
    assert code == 2
    assert "--prefer" in capsys.readouterr().err
