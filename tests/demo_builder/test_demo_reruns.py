"""Re-running the demo's rows and their fixes in the sandbox gives what the catalogue says."""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from demo import DemoPaths
from demo.catalogue import ROWS, DemoRow, FixStep
from runner.execute import execute
from runner.spec import RunResult, RunSpec
from workspace.config import RunSettings, load_config
from workspace.dataset import load_dataset

TIME_LIMIT_RERUN = 3.0  # the demo's own limit is 30 s; the time-limit row only has to reach a limit


def _short(exc_type: str | None) -> str | None:
    return exc_type.rsplit(".", 1)[-1] if exc_type else None


@pytest.fixture(scope="module")
def demo_settings(demo: DemoPaths, tmp_path_factory: pytest.TempPathFactory) -> RunSettings:
    settings = load_config(demo.dataset, cwd=tmp_path_factory.mktemp("cwd")).run
    assert settings.data_root == demo.data_root
    assert settings.time_limit == 30
    return settings


@pytest.fixture(scope="module")
def runs(
    demo: DemoPaths, demo_settings: RunSettings, tmp_path_factory: pytest.TempPathFactory
) -> dict[tuple[str, int], RunResult]:
    """(row name, 0) -> the re-run of the row's code; (row name, k) -> the run of its k-th fix."""
    base = tmp_path_factory.mktemp("reruns")
    dataset = load_dataset(demo.dataset)
    jobs: list[tuple[tuple[str, int], RunSpec, str | None]] = []
    for row in ROWS:
        limit = TIME_LIMIT_RERUN if row.rerun_verdict == "time_limit" else demo_settings.time_limit
        settings = dataclasses.replace(demo_settings, time_limit=limit)
        jobs.append(
            (
                (row.name, 0),
                RunSpec(row.code, row.competition_id, settings, base / row.name / "0"),
                dataset.row(row.id).term_out,
            )
        )
        for k in range(1, len(row.fixes) + 1):
            jobs.append(
                (
                    (row.name, k),
                    RunSpec(row.fixed_code(k), row.competition_id, demo_settings, base / row.name / str(k)),
                    None,
                )
            )
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = pool.map(lambda job: execute(job[1], recorded_output=job[2]), jobs)
        return {job[0]: result for job, result in zip(jobs, results, strict=False)}


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.name)
def test_rerun_gives_the_catalogued_verdict(row: DemoRow, runs: dict[tuple[str, int], RunResult]) -> None:
    verdict = runs[(row.name, 0)].verdict
    assert verdict.kind == row.rerun_verdict, verdict.detail
    if row.rerun_verdict == "error":
        assert _short(verdict.error.exc_type) == _short(row.rerun_exception), verdict.detail
        same_bug = _short(row.recorded_exception) == _short(row.rerun_exception)
        assert verdict.match == ("same" if same_bug else "different")


FIX_CASES = [
    pytest.param(row, k, step, id=f"{row.name}-fix{k}") for row in ROWS for k, step in enumerate(row.fixes, start=1)
]


@pytest.mark.parametrize(("row", "k", "step"), FIX_CASES)
def test_fix_runs_as_catalogued(row: DemoRow, k: int, step: FixStep, runs: dict[tuple[str, int], RunResult]) -> None:
    result = runs[(row.name, k)]
    assert result.verdict.kind == step.verdict, result.verdict.detail
    if step.verdict == "clean":
        assert result.submission_written
        assert k == len(row.fixes)
        submission = Path(result.run_dir) / "scratch" / "submission.csv"
        assert len(submission.read_text().splitlines()) > 50
    else:
        assert _short(result.verdict.error.exc_type) == step.exception


def test_every_fixable_row_ends_clean() -> None:
    for row in ROWS:
        if row.fixes:
            assert row.fixes[-1].verdict == "clean"
            assert all(step.verdict == "error" for step in row.fixes[:-1])
