"""The built demo: rows in the client's schema with real recorded outputs, and its data and settings."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from demo import DemoPaths, is_built
from demo.builder import generation_spec
from demo.catalogue import ROWS, FixStep, final_exception, row_by_name
from demo.data_maker import COMPETITIONS, PUBLIC_FILES, competition_path, write_competition_data
from runner.backends import get_backend
from workspace.config import RunSettings, load_config
from workspace.dataset import REQUIRED_COLUMNS, load_dataset

EXECUTION_TIME = re.compile(
    r"^Execution time: (a moment|a second|\d+ seconds|a minute) seconds \(time limit is (a minute|\d+ seconds)\)\.$"
)
TIMEOUT_LINE = re.compile(r"^TimeoutError: Execution exceeded the time limit of \d+ seconds$")


def _rows(demo: DemoPaths) -> dict[str, dict]:
    return {r["id"]: r for r in pq.read_table(demo.dataset).to_pylist()}


def test_dataset_has_the_clients_columns_and_loads(demo: DemoPaths) -> None:
    schema = pq.read_schema(demo.dataset)
    assert tuple(schema.names) == REQUIRED_COLUMNS
    assert schema.field("_term_out").type == pa.list_(pa.string())
    assert schema.field("exec_time").type == pa.float64()
    dataset = load_dataset(demo.dataset)
    assert len(dataset) == len(ROWS) >= 12
    assert dataset.ids == [row.id for row in ROWS]
    for row in ROWS:
        source = dataset.row(row.id)
        assert (source.competition_id, source.code, source.plan) == (row.competition_id, row.code, row.plan)
        assert source.exec_time is not None
        assert source.exec_time >= 0


def test_each_recorded_output_ends_the_way_its_case_says(demo: DemoPaths) -> None:
    rows = _rows(demo)
    for row in ROWS:
        term_out = rows[row.id]["_term_out"]
        text = "".join(term_out)
        assert final_exception(text) == row.recorded_exception, row.name
        last = term_out[-1]
        if row.recorded_exception == "TimeoutError":
            assert TIMEOUT_LINE.match(last), last
            assert "\nKeyboardInterrupt\n" in text  # AIDE interrupts the script with SIGINT
        else:
            assert EXECUTION_TIME.match(last), (row.name, last)
        if row.recorded_exception not in (None, "TimeoutError"):
            assert 'File "runfile.py", line ' in text, row.name
        if row.recorded_exception is None:
            assert "Traceback" not in text, row.name


def test_outputs_keep_aides_shape(demo: DemoPaths) -> None:
    """One item per write, the traceback as one item, the driver's own frames left out."""
    items = _rows(demo)[row_by_name("tps-label-index").id]["_term_out"]
    assert items[:2] == ["400 rows, 54 features, 7 classes", "\n"]
    assert items[-2].startswith("Traceback (most recent call last):\n")
    assert items[-2].endswith("size 7\n")
    assert all("aide_driver" not in "".join(r["_term_out"]) for r in _rows(demo).values())


def test_time_limit_row_printed_progress_then_was_interrupted(demo: DemoPaths) -> None:
    row = row_by_name("tps-time-limit")
    recorded = _rows(demo)[row.id]
    text = "".join(recorded["_term_out"])
    assert re.search(r"^Epoch 1/50000 - loss: ", text, re.MULTILINE)
    assert (
        recorded["_term_out"][-1] == f"TimeoutError: Execution exceeded the time limit of {int(row.time_limit)} seconds"
    )
    assert recorded["exec_time"] >= row.time_limit


def test_download_row_failed_on_the_cut_network(demo: DemoPaths) -> None:
    text = "".join(_rows(demo)[row_by_name("nlp-glove-download").id]["_term_out"])
    assert "Downloading GloVe embeddings..." in text
    assert re.search(
        r"urllib\.error\.URLError: <urlopen error .*"
        r"(Temporary failure in name resolution|Name or service not known|Network is unreachable)",
        text,
    )


def test_old_snapshot_row_recorded_the_old_columns_error(demo: DemoPaths) -> None:
    text = "".join(_rows(demo)[row_by_name("tps-old-snapshot").id]["_term_out"])
    assert text.rstrip().splitlines()[-2] == "KeyError: 'Id'"
    header = (
        (competition_path(demo.data_root, "tabular-playground-series-dec-2021") / "test.csv").read_text().split(",")[0]
    )
    assert header == "Id"  # the shipped data has the column the recorded run missed


def test_data_layout_and_columns(demo: DemoPaths) -> None:
    expected_headers = {
        "spaceship-titanic": (
            "PassengerId,HomePlanet,CryoSleep,Cabin,Destination,Age,VIP,RoomService,"
            "FoodCourt,ShoppingMall,Spa,VRDeck,Name,Transported",
            "PassengerId,Transported",
        ),
        "nlp-getting-started": ("id,keyword,location,text,target", "id,target"),
        "leaf-classification": ("id,species,margin1,", "id,Acer_Opalus,"),
        "tabular-playground-series-dec-2021": ("Id,Elevation,Aspect,Slope,", "Id,Cover_Type"),
    }
    assert set(COMPETITIONS) == {row.competition_id for row in ROWS} == set(expected_headers)
    for competition, (train_header, sample_header) in expected_headers.items():
        folder = competition_path(demo.data_root, competition)
        assert folder == demo.data_root / competition / "prepared" / "public"
        assert sorted(p.name for p in folder.iterdir()) == sorted(PUBLIC_FILES)
        train = (folder / "train.csv").read_text().splitlines()
        test = (folder / "test.csv").read_text().splitlines()
        sample = (folder / "sample_submission.csv").read_text().splitlines()
        assert train[0].startswith(train_header)
        assert sample[0].startswith(sample_header)
        assert 200 <= len(train) - 1 <= 500
        assert 50 <= len(test) - 1 <= 150
        assert len(sample) == len(test)


def test_data_is_deterministic(demo: DemoPaths, tmp_path: Path) -> None:
    write_competition_data(tmp_path)
    for competition in COMPETITIONS:
        for name in PUBLIC_FILES:
            again = competition_path(tmp_path, competition) / name
            assert again.read_bytes() == (competition_path(demo.data_root, competition) / name).read_bytes()


def test_settings_file_points_at_the_data_with_a_short_limit(
    demo: DemoPaths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    config = load_config(demo.dataset, cwd=tmp_path)
    assert config.sources == [demo.config]
    assert config.run.data_root == demo.data_root
    assert config.run.time_limit == 30
    assert "360" in demo.config.read_text()
    assert is_built(demo.dataset.parent)


def test_catalogue_covers_the_cases() -> None:
    assert len({row.id for row in ROWS}) == len({row.name for row in ROWS}) == len(ROWS)
    assert {row.rerun_verdict for row in ROWS} == {"error", "no_submission", "clean", "time_limit"}
    assert {row.reject_reason for row in ROWS} >= {"incomplete", "no_code", "not_buggy", "time_limit"}
    assert any(len(row.fixes) == 2 for row in ROWS)
    assert any(row.snapshot != "current" and row.recorded_exception != row.rerun_exception for row in ROWS)
    code_of = {row.name: row.code for row in ROWS}
    assert "./input/" in code_of["spaceship-input-path"]
    assert "./submission/submission.csv" in code_of["spaceship-submission-dir"]
    assert ".append(" in code_of["leaf-dataframe-append"]
    assert "urllib.request.urlretrieve" in code_of["nlp-glove-download"]
    assert all(
        isinstance(node, (ast.Import, ast.ImportFrom)) for node in ast.parse(code_of["spaceship-imports-only"]).body
    )
    for row in ROWS:
        if row.rerun_verdict == "error":
            assert row.rerun_exception, row.name
        codes = [row.code] + [row.fixed_code(k) for k in range(1, len(row.fixes) + 1)]
        assert len(set(codes)) == len(codes), row.name  # every fix changes its step's code


def test_a_fix_edit_must_match_exactly_once() -> None:
    with pytest.raises(ValueError, match="occurs 0 times"):
        FixStep((("missing", "x"),), "clean").apply("print(1)\n")
    with pytest.raises(ValueError, match="occurs 2 times"):
        FixStep((("1", "2"),), "clean").apply("print(1)\nprint(1)\n")


def test_recording_runs_cut_the_network(tmp_path: Path) -> None:
    spec = generation_spec(row_by_name("nlp-glove-download"), RunSettings(), tmp_path, tmp_path / "run")
    command = get_backend(spec.settings).command(spec)
    assert "--unshare-all" in command or "--net" in command[: command.index("--fork")]
    assert spec.python_args[:2] == ["aide_driver.py", "runfile.py"]
