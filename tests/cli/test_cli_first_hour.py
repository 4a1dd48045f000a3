"""What a newcomer types in the first hour: --version, id prefixes, export's options and messages."""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tui.cli import main
from workspace.store import open_workspace

IDS = ["3bbce31f5dda5e09", "3bbce31f77777777", "48d97bf9976953da", "dd7e8a82108850a1"]


@pytest.fixture
def dataset(make_dataset, isolated_user_config) -> Path:
    return make_dataset([{"id": row_id} for row_id in IDS])


def _error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 or err[0].startswith("nodefix: workspace")
    return err[-1]


def test_version_comes_from_the_package_metadata(capsys) -> None:
    with pytest.raises(SystemExit) as exit:
        main(["--version"])
    assert exit.value.code == 0
    assert capsys.readouterr().out.strip() == f"nodefix {version('nodefix')}"


def test_a_unique_prefix_as_the_queue_shows_it_names_the_row(dataset, capsys) -> None:
    assert main(["annotate", str(dataset), "--id", "48d97bf9", "--set", "revised_plan=read ./data"]) == 0
    assert capsys.readouterr().out.strip() == "row 48d97bf9976953da step 0: saved revised_plan"
    assert main(["show", str(dataset), "--id", "dd7e"]) == 0
    assert capsys.readouterr().out.startswith("id: dd7e8a82108850a1  (row 3)")
    with open_workspace(dataset) as ws:
        assert ws.step("48d97bf9976953da", 0).revised_plan == "read ./data"


def test_a_full_id_that_is_also_a_prefix_of_another_is_taken_as_it_is(make_dataset, isolated_user_config, capsys):
    dataset = make_dataset([{"id": "node-1"}, {"id": "node-12"}])
    assert main(["show", str(dataset), "--id", "node-1"]) == 0
    assert capsys.readouterr().out.startswith("id: node-1  (row 0)")


@pytest.mark.parametrize("command", [["show"], ["annotate", "--set", "revised_plan=x"], ["trace"], ["grade"]])
def test_an_ambiguous_prefix_lists_the_candidates_on_one_line_and_exits_2(dataset, capsys, command) -> None:
    assert main([command[0], str(dataset), "--id", "3bbce31f", *command[1:]]) == 2
    line = _error_line(capsys)
    assert (
        line == f"nodefix: {dataset}: id prefix '3bbce31f' is ambiguous, it starts 3bbce31f5dda5e09, 3bbce31f77777777"
    )


def test_a_prefix_of_many_rows_lists_five_and_the_count(make_dataset, isolated_user_config, capsys) -> None:
    dataset = make_dataset([{"id": f"node-{i}"} for i in range(12)])
    assert main(["show", str(dataset), "--id", "node"]) == 2
    assert _error_line(capsys).endswith("it starts node-0, node-1, node-2, node-3, node-4, ... (12 in all)")


def test_a_prefix_of_no_row_is_one_line_and_exit_2(dataset, capsys) -> None:
    assert main(["show", str(dataset), "--id", "ffff"]) == 2
    assert _error_line(capsys) == f"nodefix: {dataset}: no row with id 'ffff', nor one that starts with it"


def test_every_id_option_documents_prefixes_and_the_step_default(capsys) -> None:
    for command in ("run", "grade", "trace", "annotate"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        text = " ".join(capsys.readouterr().out.split())
        assert "its first characters as the queue shows them" in text
        assert "default: the row's last step" in text


def test_export_help_says_what_goes_in_and_how_to_leave_rows_out(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["export", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "every source row, whatever its status (untouched and in_progress rows too)" in text
    assert "one output row per debug step" in text
    assert "--only done,rejected" in text


def test_export_only_leaves_out_the_other_statuses(dataset, tmp_path, capsys) -> None:
    assert main(["annotate", str(dataset), "--id", "48d9", "--reject", "no_code"]) == 0
    assert main(["annotate", str(dataset), "--id", "dd7e", "--status", "in_progress"]) == 0
    out = tmp_path / "deliverable.parquet"
    capsys.readouterr()
    assert main(["export", str(dataset), "--out", str(out), "--only", "done,rejected"]) == 0
    assert capsys.readouterr().out.strip() == f"wrote 1 rows (4 source rows, 3 left out by --only) to {out}"
    table = pq.read_table(out)
    assert table.column("id").to_pylist() == ["48d97bf9976953da"]
    assert table.column("status").to_pylist() == ["rejected"]
    assert main(["export", str(dataset), "--out", str(out), "--only", "untouched"]) == 0
    assert pq.read_table(out).column("id").to_pylist() == ["3bbce31f5dda5e09", "3bbce31f77777777"]


def test_export_only_with_an_unknown_status_is_one_line_and_exit_2(dataset, tmp_path, capsys) -> None:
    assert main(["export", str(dataset), "--out", str(tmp_path / "d.parquet"), "--only", "done,finished"]) == 2
    assert _error_line(capsys) == (
        "nodefix: --only done,finished: unknown status 'finished' "
        "(statuses: untouched, in_progress, rejected, done, blocked)"
    )
    assert not (tmp_path / "d.parquet").exists()


def test_export_into_a_missing_folder_names_the_users_path(dataset, tmp_path, capsys) -> None:
    out = tmp_path / "no" / "such" / "d.parquet"
    assert main(["export", str(dataset), "--out", str(out)]) == 2
    line = _error_line(capsys)
    assert line == f"nodefix: {out}: cannot write the deliverable (no folder {out.parent})"
    assert ".tmp" not in line
