"""The queue's summaries as columns: saved rows from SQLite, the others untouched, filters per column."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from workspace.dataset import load_dataset
from workspace.summaries import RowSummary

ROWS = [
    {"competition_id": "spaceship-titanic"},
    {"competition_id": "nlp-getting-started"},
    {"competition_id": "spaceship-titanic"},
    {"competition_id": "leaf-classification"},
    {"competition_id": "nlp-getting-started"},
]


def test_only_the_rows_the_store_knows_are_read_from_it_the_others_are_untouched(open_ws, run_record) -> None:
    ws = open_ws(ROWS)
    ws.set_status("row-1", "rejected", reason="no_code")
    ws.add_run("row-3", 0, "replicate", run_record("error"))
    summaries = ws.summaries()
    assert sorted(summaries.saved) == [1, 3]
    assert len(summaries) == 5
    assert summaries[0] == RowSummary("row-0", "spaceship-titanic", "untouched", None, 1, 0.0, None, None, None)
    assert (summaries[1].status, summaries[1].reject_reason) == ("rejected", "no_code")
    assert summaries[3].verdict == "error"
    assert summaries[-1].id == "row-4"
    assert [s.id for s in summaries] == [f"row-{i}" for i in range(5)]
    assert list(summaries) == [summaries[i] for i in range(5)]


def test_filters_are_answered_per_column_and_combine(open_ws, run_record) -> None:
    ws = open_ws(ROWS)
    ws.set_status("row-1", "rejected", reason="no_code")
    ws.set_status("row-2", "in_progress")
    ws.add_run("row-4", 0, "replicate", run_record("error"))
    summaries = ws.summaries()
    assert list(summaries.select()) == [f"row-{i}" for i in range(5)]
    assert list(summaries.select(status="untouched")) == ["row-0", "row-3", "row-4"]
    assert list(summaries.select(status="rejected")) == ["row-1"]
    assert list(summaries.select(verdict="none")) == ["row-0", "row-1", "row-2", "row-3"]
    assert list(summaries.select(verdict="error")) == ["row-4"]
    assert list(summaries.select(competition="nlp-getting-started")) == ["row-1", "row-4"]
    assert list(summaries.select(competition="nlp-getting-started", status="untouched")) == ["row-4"]
    found = ws.dataset.matching_rows("row-3", ("id",))
    assert list(summaries.select(among=found, status="untouched")) == ["row-3"]
    assert summaries.verdict_words() == ["error", "none"]
    assert summaries.competition_ids() == ["leaf-classification", "nlp-getting-started", "spaceship-titanic"]


def test_a_selection_finds_positions_and_summaries_of_its_rows(open_ws) -> None:
    ws = open_ws(ROWS)
    ws.set_status("row-3", "blocked")
    summaries = ws.summaries()
    selection = summaries.select(competition="spaceship-titanic")  # rows 0 and 2
    assert len(selection) == 2
    assert (selection[0], selection[1]) == ("row-0", "row-2")
    assert (selection.position("row-2"), selection.position("row-1"), selection.position("nope")) == (1, None, None)
    every_other = summaries.select().rows[::2]
    assert [s.id for s in summaries.of_rows(every_other)] == ["row-0", "row-2", "row-4"]
    assert [s.status for s in summaries.of_rows(summaries.select().rows[3:4])] == ["blocked"]


def test_the_header_counts_come_from_one_aggregate(open_ws) -> None:
    ws = open_ws(ROWS)
    ws.set_status("row-0", "blocked")
    ws.set_status("row-1", "rejected", reason="no_code")
    ws.set_status("row-2", "rejected", reason="not_buggy")
    assert ws.status_counts() == {"blocked": 1, "rejected": 2}


def test_a_null_competition_is_an_empty_one_and_the_ids_are_looked_up_together(make_dataset) -> None:
    ds = load_dataset(make_dataset([{}, {"competition_id": None}, {}]))
    assert ds.rows_equal("competition_id", "").tolist() == [1]
    assert ds.column_values("competition_id") == ["spaceship-titanic", "", "spaceship-titanic"]
    assert ds.row_numbers(["row-2", "missing", "row-0"]) == {"row-0": 0, "row-2": 2}


def test_opening_reads_the_ids_alone_and_the_queue_never_imports_pandas(tmp_path: Path, make_dataset) -> None:
    """pyarrow's own conversions to and from numpy import pandas: most of a second the queue does not need."""
    path = make_dataset([{"exec_time": 2.5}, {"competition_id": "leaf-classification", "exec_time": 7.0}])
    probe = (
        "import sys\n"
        "from workspace.store import open_workspace\n"
        "open_workspace(sys.argv[1], sys.argv[2]).close()  # made: the file is checked whole\n"
        "ws = open_workspace(sys.argv[1], sys.argv[2])\n"
        "row = ws.dataset.row('row-1')\n"
        "print(sorted(ws.dataset._queue), row.competition_id, row.exec_time)\n"
        "ws.set_status('row-0', 'blocked')\n"
        "summaries = ws.summaries()\n"
        "hits = ws.dataset.matching_rows('ROW', ('id', 'plan'))\n"
        "print(list(summaries.select(status='untouched', competition='leaf-classification', among=hits)))\n"
        "print([s.status for s in summaries.of_rows(hits)], 'pandas' in sys.modules)\n"
    )
    root = Path(__file__).resolve().parents[2]
    argv = [sys.executable, "-c", probe, str(path), str(tmp_path / "ws")]
    out = subprocess.run(argv, cwd=root, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        "['id'] leaf-classification 7.0",
        "['row-1']",
        "['blocked', 'untouched'] False",
    ]
