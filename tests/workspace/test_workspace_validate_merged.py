"""validate of a merged deliverable against the shard workspaces it came from: a real source split in two, each
shard's rows done with a quoted trace of their code, merged back, then validated as the README's team flow does,
tampered one way at a time, with the workspaces moved, and with one of them missing.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tracer_adapter.verbatim import check_analysis
from tui.cli import main
from workspace.shards import MERGED_KEY, merge_deliverables, split_dataset
from workspace.store import open_workspace
from workspace.validate import Violation, check_deliverable, validate_deliverable

FIX = "print('fixed')\n"
NO_WORKSPACE = "quotes trace lines, but no workspace holds the traces (give --workspace)"


@dataclass(frozen=True)
class Team:
    source: Path  # batch.parquet
    folder: Path  # team/, holding part-1/ and part-2/
    out: Path  # the merged deliverable
    done: dict[int, list[str]]  # part -> the ids marked done there, each quoting its trace
    quote: str  # the trace line every done row quotes

    def shard(self, part: int, folder: Path | None = None) -> Path:
        return (folder or self.folder) / f"part-{part}" / "dataset.parquet"

    def workspace(self, part: int, folder: Path | None = None) -> Path:
        return (folder or self.folder) / f"part-{part}" / "dataset.nodefix"

    def table(self) -> pa.Table:
        return pq.read_table(self.out)

    def position(self, row_id: str) -> int:
        return self.table().column("id").to_pylist().index(row_id)


@pytest.fixture
def team(make_dataset, run_record, quotable_trace, tmp_path: Path) -> Team:
    """batch.parquet (8 rows) split in two; in each shard three rows replicated, traced, fixed, verified and
    done with a cwm_analysis quoting a line of the trace of their code; merged from the shard parquets."""
    source = make_dataset([{"exec_time": 1.0 + i} for i in range(8)], "batch.parquet")
    folder = tmp_path / "team"
    shards = split_dataset(source, 2, folder)
    done: dict[int, list[str]] = {}
    quote = ""
    for shard in shards:
        with open_workspace(shard.path) as ws:
            done[shard.part] = list(ws.dataset.ids[:3])
            for row_id in done[shard.part]:
                quote = quotable_trace(ws, row_id)
                ws.update_step(
                    row_id,
                    0,
                    fixable=True,
                    revised_analysis="reads ./input",
                    revised_plan="read ./data",
                    cwm_analysis=f"the dict starts empty:\n{quote}\n",
                    fixed_code=FIX,
                )
                ws.add_run(row_id, 0, "fix", run_record("clean", code=FIX))
                ws.set_status(row_id, "done", check_quotes=check_analysis)
    out = tmp_path / "deliverable.parquet"
    merge_deliverables([shard.path for shard in shards], out)
    return Team(source, folder, out, done, quote)


def _with(table: pa.Table, column: str, row: int, value: object) -> pa.Table:
    values = table.column(column).to_pylist()
    values[row] = value
    i = table.schema.get_field_index(column)
    return table.set_column(i, table.schema.field(i), pa.array(values, table.schema.field(i).type))


def _write(table: pa.Table, tmp_path: Path) -> Path:
    assert MERGED_KEY in (table.schema.metadata or {})  # the tampered file still names the shard workspaces
    path = tmp_path / "tampered.parquet"
    pq.write_table(table, path)
    return path


def _where(violations: list[Violation]) -> list[tuple]:
    return [(v.row, v.id, v.step, v.column) for v in violations]


def _later_in_the_file(team: Team, part: int) -> str:
    """A done row of ``part`` whose position in the merged file is not its position in the shard."""
    shard_ids = pq.read_table(team.shard(part)).column("id").to_pylist()
    return next(i for i in team.done[part] if team.position(i) != shard_ids.index(i))


def test_the_readme_team_flow_validates_the_merged_file(team: Team, tmp_path: Path, capsys) -> None:
    out = tmp_path / "readme-deliverable.parquet"
    assert main(["merge", str(team.shard(1)), str(team.shard(2)), "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["validate", str(out), "--source", str(team.source)]) == 0
    captured = capsys.readouterr()
    assert (captured.out.strip(), captured.err) == (f"{out}: ok", "")

    found = check_deliverable(out, check_quotes=check_analysis)  # no --source: the one the shards came from
    assert found.violations == []
    assert found.workspaces == (team.workspace(1).resolve(), team.workspace(2).resolve())
    assert found.source == team.source.resolve()
    assert found.note() is None
    assert validate_deliverable(team.out, team.source, check_quotes=check_analysis) == []


def test_a_tampered_quote_in_a_part_2_row_is_reported_at_its_row_of_the_merged_file(
    team: Team, tmp_path: Path, capsys
) -> None:
    row_id = _later_in_the_file(team, 2)
    row = team.position(row_id)
    edited = team.quote.replace("new_d = {}", "new_d = []")
    assert edited != team.quote
    tampered = _write(_with(team.table(), "cwm_analysis", row, f"the dict starts empty:\n{edited}\n"), tmp_path)
    violations = validate_deliverable(tampered, team.source, check_quotes=check_analysis)
    assert _where(violations) == [(row, row_id, 0, "cwm_analysis")] * 2
    assert violations[0].message.startswith("line 2 is not a line of the step's traces")
    assert violations[1].message == f"differs from the workspace {team.workspace(2).resolve()}"

    assert main(["validate", str(tampered), "--source", str(team.source)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"{tampered}: row {row}, id {row_id!r}, step 0, column 'cwm_analysis': line 2 ")


def test_a_tampered_status_is_reported_against_its_own_shard_workspace(team: Team, tmp_path: Path, capsys) -> None:
    row_id = _later_in_the_file(team, 1)
    row = team.position(row_id)
    tampered = _write(_with(team.table(), "status", row, "blocked"), tmp_path)
    [violation] = validate_deliverable(tampered, team.source, check_quotes=check_analysis)
    assert _where([violation]) == [(row, row_id, 0, "status")]
    assert violation.message == f"is 'blocked', the workspace {team.workspace(1).resolve()} says 'done'"
    assert main(["validate", str(tampered)]) == 1
    assert capsys.readouterr().out.splitlines() == [f"{tampered}: {violation}"]


def test_moved_shard_workspaces_are_given_by_repeated_workspace(team: Team, tmp_path: Path, capsys) -> None:
    moved = tmp_path / "elsewhere" / "team"  # rsync'd to another path, the old folders gone
    shutil.copytree(team.folder, moved)
    shutil.rmtree(team.folder)
    assert main(["validate", str(team.out), "--source", str(team.source)]) == 1
    captured = capsys.readouterr()
    assert captured.out.count(NO_WORKSPACE) == 6  # every done row quotes its trace
    assert captured.err.splitlines()[0] == (
        f"note: the workspaces the file names, {team.workspace(1).resolve()}, {team.workspace(2).resolve()}, "
        "are not there (give --workspace): quotes, runs and texts were not checked against them"
    )

    given = ["--workspace", str(team.shard(1, moved)), "--workspace", str(team.shard(2, moved))]
    assert main(["validate", str(team.out), "--source", str(team.source), *given]) == 0
    captured = capsys.readouterr()
    assert (captured.out.strip(), captured.err) == (f"{team.out}: ok", "")
    # opened by their parquets, the workspaces know where their datasets are now: their folders do too
    folders = [team.workspace(1, moved), team.workspace(2, moved)]
    assert main(["validate", str(team.out), "--workspace", str(folders[0]), "--workspace", str(folders[1])]) == 0
    assert capsys.readouterr().err == ""
    found = check_deliverable(team.out, workspace=folders, check_quotes=check_analysis)
    assert (found.violations, found.source) == ([], team.source.resolve())  # the source the shards name


def test_with_one_shard_workspace_the_other_shards_quotes_have_no_workspace(team: Team, capsys) -> None:
    part2 = sorted(team.position(i) for i in team.done[2])
    expected = [f"{team.out}: row {row}, id {team.table()['id'][row].as_py()!r}, step 0, column 'cwm_analysis': "
                f"{NO_WORKSPACE}" for row in part2]  # fmt: skip
    argv = ["validate", str(team.out), "--source", str(team.source), "--workspace", str(team.workspace(1))]
    assert main(argv) == 1
    captured = capsys.readouterr()
    assert captured.out.splitlines() == expected
    assert captured.err == "3 violation(s)\n"

    # found from the file's metadata, with part 2's folder gone: the same, and the note names the missing one
    shutil.rmtree(team.workspace(2))
    assert main(["validate", str(team.out)]) == 1  # the source: the one part 1 was split from
    captured = capsys.readouterr()
    assert captured.out.splitlines() == expected
    assert captured.err.splitlines() == [
        f"note: the workspace the file names, {team.workspace(2).resolve()}, is not there (give --workspace): "
        "quotes, runs and texts of its rows were not checked against it",
        "3 violation(s)",
    ]


def test_a_conflict_resolved_by_prefer_validates_against_the_side_kept(
    team: Team, run_record, tmp_path: Path, capsys
) -> None:
    """carol reworked one done row of part 1 in her own workspace; merge kept hers (--prefer) and part 1's rest."""
    row_id = team.done[1][0]
    carol = tmp_path / "carol.nodefix"
    with open_workspace(team.shard(1), carol) as ws:
        ws.set_status(row_id, "blocked", note="needs the GPU box")
    out = tmp_path / "preferred.parquet"
    workspaces = [str(team.workspace(1)), str(team.workspace(2)), str(carol)]
    assert main(["merge", *workspaces, "--out", str(out), "--prefer", str(carol)]) == 0
    capsys.readouterr()
    assert main(["validate", str(out), "--source", str(team.source)]) == 0, capsys.readouterr().out
    assert validate_deliverable(out, check_quotes=check_analysis) == []


def test_without_the_source_the_shards_came_from_no_shard_is_taken_for_it(team: Team, capsys) -> None:
    team.source.rename(team.source.with_name("archived.parquet"))
    found = check_deliverable(team.out, check_quotes=check_analysis)
    assert (found.violations, found.source) == ([], None)  # not part 1's dataset: it holds half the rows
    assert main(["validate", str(team.out)]) == 0
    assert capsys.readouterr().err.splitlines() == [
        "note: the shards name no one source dataset that is there (give --source): source rows were not checked"
    ]
