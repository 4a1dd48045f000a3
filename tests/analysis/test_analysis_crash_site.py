"""The crash site: from the goldens, from every crashing demo row traced in bubblewrap, and in `nodefix show`."""

from __future__ import annotations

from pathlib import Path

import pytest
from analysis_rows import CRASHING, TWO_STEPS

from demo.catalogue import ROWS
from tracer_adapter.crash_site import crash_site, guess_type, names_read, step_crash_site
from tracer_adapter.trace_index import TraceIndex
from tui.cli import main
from workspace.store import open_workspace


def test_ex2_crash_site_names_the_key_error_its_line_chain_and_values(golden_trace) -> None:
    with TraceIndex.open(golden_trace("ex2")) as index:
        site = crash_site(index)
    assert site is not None
    assert (site.exception_type, site.message) == ("KeyError", "3")
    assert (site.lineno, site.source) == (6, "new_d[key] += 1")
    assert [(f.function, f.lineno) for f in site.chain] == [("main", 9), ("f", 6)]
    assert [v.name for v in site.values] == ["new_d", "key", "d", "k", "val"]  # what the line reads, first
    assert [v.read_by_line for v in site.values] == [True, True, False, False, False]
    assert (site.values[0].type_name, site.values[0].value) == ("dict", "{1: 3, 2: 5}")
    text = "\n".join(site.lines())
    assert text.startswith("crash site\n  KeyError: 3\n  at line 6: new_d[key] += 1")


def test_a_trace_that_returns_has_no_crash_site(golden_trace) -> None:
    with TraceIndex.open(golden_trace("ex1")) as index:
        assert crash_site(index) is None


@pytest.mark.parametrize(
    ("source", "reads"),
    [
        ("        new_d[key] += 1\n", ["new_d", "key"]),
        ("    for key, val in d.items():\n", ["d"]),
        ("    elif x > limit:\n", ["x", "limit"]),
        ("    total = total + f(a, b=c)\n", ["total", "f", "a", "c"]),
        ("    ) # not a whole statement\n", []),
    ],
)
def test_names_a_line_reads(source: str, reads: list[str]) -> None:
    assert names_read(source) == reads


@pytest.mark.parametrize(
    ("text", "kind"),
    [("3", "int"), ("-1.5e3", "float"), ("'a'", "str"), ("[1]", "list"), ("{1, 2}", "set"), ("{'a': 1}", "dict")]
    + [("None", "NoneType"), ("array([1, 2])", "ndarray"), ("<__main__.Holder object at 0x7f>", "Holder")]
    + [("Counter({'a': 1})", "Counter"), ("     a  b\n0  1  2", "?")],
)
def test_type_read_off_the_traced_text(text: str, kind: str) -> None:
    assert guess_type(text) == kind


@pytest.mark.parametrize("row", CRASHING, ids=[row.name for row in CRASHING])
def test_every_crashing_demo_row_has_a_crash_site_of_its_exception(row, traced_demo) -> None:
    with open_workspace(traced_demo.dataset, traced_demo.workspace) as ws:
        step = ws.step(row.id, 0)
        site = step_crash_site(ws, step)
    assert site is not None
    assert site.exception_type == row.rerun_exception.split(".")[-1]
    assert site.lineno is not None
    assert site.source in step.code
    assert site.chain[-1].source == site.source
    assert site.locals_line is not None  # the failing frame's locals as traced (a module body may show none)


def test_show_prints_the_crash_site_of_each_step_of_a_two_step_row(traced_demo, capsys) -> None:
    row = TWO_STEPS
    code = main(["show", str(traced_demo.dataset), "--workspace", str(traced_demo.workspace), "--id", row.id])
    out = capsys.readouterr().out
    assert code == 0
    assert out.count("\ncrash site\n") == 2
    second = out.split("===== debug step 1 =====", 1)[1]
    assert f"  {row.fixes[0].exception}" in second.split("crash site", 1)[1].split("\n")[1]


def test_show_of_a_step_without_a_trace_prints_no_crash_site(traced_demo, capsys) -> None:
    row = next(row for row in ROWS if row.name == "nlp-not-buggy")
    assert main(["show", str(traced_demo.dataset), "--workspace", str(traced_demo.workspace), "--id", row.id]) == 0
    assert "crash site" not in capsys.readouterr().out


def test_crash_site_keeps_to_the_trace_it_is_given(golden_trace, tmp_path: Path) -> None:
    trace = golden_trace("ex2")
    cut = tmp_path / "cut.trace"
    cut.write_bytes(trace.read_bytes().split(b"<|exception_sep|>")[0])  # a trace cut before the exception
    with TraceIndex.open(cut) as index:
        assert crash_site(index) is None
