"""The verbatim check of cwm_analysis against stored traces."""

from __future__ import annotations

from pathlib import Path

from tracer_data_synthetic import write_synthetic_trace

from tracer_adapter.verbatim import VerbatimProblem, check_analysis, check_workspace, quoted_lines
from workspace.run_rules import code_sha256


def _analysis(*quoted: str) -> str:
    return "We initialize new_d:\n\n```\n" + "\n".join(quoted) + "\n```\n\nThen it raises.\n"


def _line_no(analysis: str, line: str) -> int:
    return analysis.split("\n").index(line) + 1


def test_exact_lines_pass(golden) -> None:
    trace = golden("ex2")
    lines = trace.read_text(encoding="utf-8").split("\n")
    analysis = _analysis(lines[3], lines[15], lines[0], lines[-1], lines[17])
    assert len(quoted_lines(analysis)) == 5
    assert check_analysis(analysis, [trace]) == []


def test_prose_without_tokens_is_not_checked(golden) -> None:
    assert check_analysis("new_d[key] += 1 raises KeyError\n\nno trace here", [golden("ex2")]) == []


def test_edited_line_fails_with_the_real_line_as_nearest(golden) -> None:
    trace = golden("ex2")
    real = trace.read_text(encoding="utf-8").split("\n")[7]
    edited = real.replace('"new_d": "{1: 2}"', '"new_d": "{1: 9}"')
    analysis = _analysis(edited)
    assert check_analysis(analysis, [trace]) == [VerbatimProblem(_line_no(analysis, edited), edited, real)]


def test_trailing_space_and_carriage_return_fail(golden) -> None:
    trace = golden("ex2")
    real = trace.read_text(encoding="utf-8").split("\n")[15]
    for changed in (real + " ", real + "\r"):
        analysis = _analysis(changed)
        problems = check_analysis(analysis, [trace])
        assert problems == [VerbatimProblem(_line_no(analysis, changed), changed, real)]


def test_edited_source_text_fails_with_the_real_line(golden) -> None:
    trace = golden("ex2")
    real = trace.read_text(encoding="utf-8").split("\n")[3]
    edited = real.replace("new_d = {}", "new_d = dict()")
    problems = check_analysis(_analysis(edited), [trace])
    assert [p.nearest for p in problems] == [real]


def test_rewrapped_line_fails_on_both_halves(golden) -> None:
    trace = golden("ex2")
    real = trace.read_text(encoding="utf-8").split("\n")[12]
    cut = real.index('"key"')
    first, second = real[:cut].rstrip(), real[cut:]
    analysis = _analysis(first, second)
    problems = check_analysis(analysis, [trace])
    assert [p.line_no for p in problems] == [_line_no(analysis, first), _line_no(analysis, second)]
    assert problems[0].nearest is not None
    assert problems[0].nearest.startswith(first)
    assert problems[1].nearest is not None
    assert problems[1].nearest.endswith(second)
    assert "not a trace line" in problems[0].describe()


def test_lines_may_come_from_any_of_the_step_traces(golden) -> None:
    ex1, ex2 = golden("ex1"), golden("ex2")
    from_ex1 = ex1.read_text(encoding="utf-8").split("\n")[-2]
    from_ex2 = ex2.read_text(encoding="utf-8").split("\n")[15]
    analysis = _analysis(from_ex1, from_ex2)
    assert check_analysis(analysis, [ex1, ex2]) == []
    assert [p.line for p in check_analysis(analysis, [ex2])] == [from_ex1]


def test_without_traces_every_quoted_line_fails(tmp_path: Path) -> None:
    line = "<|frame_sep|><|line_sep|>{}<|action_sep|>    return 1"
    problems = check_analysis(_analysis(line), [tmp_path / "missing.trace"])
    assert problems == [VerbatimProblem(4, line, None)]


def test_large_trace(tmp_path: Path) -> None:
    trace = write_synthetic_trace(tmp_path / "big.trace", 200_000)
    lines = trace.read_text(encoding="utf-8").split("\n")
    deep = lines[-6]
    assert check_analysis(_analysis(lines[1], lines[len(lines) // 2], deep, lines[-1]), [trace]) == []
    edited = deep.replace('"y": "', '"y": "1')
    problems = check_analysis(_analysis(edited), [trace])
    assert [(p.line, p.nearest) for p in problems] == [(edited, deep)]


def test_check_workspace_reports_row_step_line_and_nearest(golden, make_dataset, tmp_path: Path) -> None:
    from workspace.store import open_workspace

    trace = golden("ex2")
    lines = trace.read_text(encoding="utf-8").split("\n")
    edited = lines[7] + " "
    with open_workspace(make_dataset([{}, {}, {}, {}]), tmp_path / "ws") as ws:
        for row_id, code in (("row-1", ws.step("row-1").code), ("row-2", "other code")):
            sha = code_sha256(code)
            ws.add_trace(row_id, 0, code_sha256=sha, trace_path=trace, meta_path=trace, index_path=trace, meta={})
        ws.update_step("row-1", 0, cwm_analysis=_analysis(lines[3], edited))
        ws.update_step("row-2", 0, cwm_analysis=_analysis(lines[3]))  # its only trace is of other code
        ws.update_step("row-3", 0, cwm_analysis=_analysis(lines[3]))  # no trace stored
        problems = check_workspace(ws)
    assert [(p.row_id, p.step, p.problem.line_no, p.problem.nearest) for p in problems] == [
        ("row-1", 0, 5, lines[7]),
        ("row-2", 0, 4, None),
        ("row-3", 0, 4, None),
    ]
    assert problems[0].describe().startswith("row 'row-1', step 0, cwm_analysis line 5 ")
