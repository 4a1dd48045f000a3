"""Imports run ahead, untraced: the run, its output and its trace stay a plain run's."""

from __future__ import annotations

import dis
import sys
import textwrap
from pathlib import Path

import pytest
from python_versions import interpreters

from tracer_adapter.cwm_tracer import ImportAhead

# the oldest supported Python, and the newest, whose bytecode and import frames differ most
PYTHONS = interpreters("3.8", "3.13")

# A module that prints, imports, then fails while it loads, as a library with a missing shared object does.
BROKEN = """
print("loading broken")
import json
def load():
    raise OSError("libfoo.so.1: cannot open shared object file")
load()
"""


# A lazy package (as transformers is): a name is imported on first use, and that import fails.
LAZY = """
def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    raise RuntimeError("Failed to import lazy." + name)
"""


def modules(folder: Path, **sources: str) -> None:
    for name, source in sources.items():
        path = folder / (name.replace(".", "/") + ".py")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source).lstrip("\n"))


def assert_runs_as_plain(path: Path, traced, plain, python: str = sys.executable):
    expected = plain(path, python=python)
    result = traced(path, python=python)
    assert result.process.stdout == expected.stdout
    assert result.process.stderr == expected.stderr
    assert result.process.returncode == expected.returncode
    assert result.meta["tracer_error"] is None
    return result


@pytest.mark.parametrize("python", PYTHONS)
def test_a_module_that_fails_to_load_runs_once_and_fails_as_in_a_plain_run(script, traced, plain, python) -> None:
    path = script("""
        import os
        import broken
    """)
    modules(path.parent, broken=BROKEN)
    result = assert_runs_as_plain(path, traced, plain, python)
    assert result.process.stdout == "loading broken\n"
    assert 'broken.py", line 5, in <module>' in result.process.stderr
    assert "importlib" not in result.process.stderr
    assert "cwm_tracer" not in result.process.stderr
    assert result.lines[-3] == "<|frame_sep|><|exception_sep|><|action_sep|>import broken"
    assert result.lines[-2].startswith("<|arg_sep|>\"(<class 'OSError'>, OSError('libfoo.so.1")


def test_a_failure_caught_by_the_script_is_the_same_exception_and_a_retry_loads_again(script, traced, plain) -> None:
    path = script("""
        import traceback
        try:
            import deep.broken
        except OSError as error:
            print(type(error).__name__, error)
            traceback.print_exc()
        import sys
        print(sorted(name for name in sys.modules if name.startswith("deep")))
        import deep.broken
    """)
    modules(path.parent, deep="", **{"deep.__init__": "", "deep.broken": BROKEN})
    result = assert_runs_as_plain(path, traced, plain)
    assert result.process.stdout.count("loading broken") == 2
    assert result.process.stderr.count("Traceback") == 2


def test_a_missing_module_inside_a_library_reads_as_in_a_plain_run(script, traced, plain) -> None:
    path = script("""
        from needs import thing
    """)
    modules(path.parent, needs="import not_installed_anywhere_xyz\nthing = 1\n")
    result = assert_runs_as_plain(path, traced, plain)
    assert result.process.stderr.endswith("ModuleNotFoundError: No module named 'not_installed_anywhere_xyz'\n")


@pytest.mark.parametrize("python", PYTHONS)
def test_a_warning_from_a_module_body_names_the_script_line_that_imported_it(script, traced, plain, python) -> None:
    path = script("""
        import quiet
        import warns
    """)
    modules(
        path.parent,
        quiet="",
        warns='import warnings\nwarnings.warn("warns will need pyarrow", UserWarning, stacklevel=2)\n',
    )
    result = assert_runs_as_plain(path, traced, plain, python)
    assert "runfile.py:2: UserWarning: warns will need pyarrow\n  import warns\n" in result.process.stderr


@pytest.mark.parametrize("python", PYTHONS)
def test_a_warning_whose_stacklevel_reaches_past_the_script_is_filtered_as_in_a_plain_run(
    script, traced, plain, python
) -> None:
    path = script("""
        import old
    """)
    modules(path.parent, old='import warnings\nwarnings.warn("old is deprecated", DeprecationWarning, stacklevel=3)\n')
    result = assert_runs_as_plain(path, traced, plain, python)
    assert "deprecated" not in result.process.stderr


def test_a_submodule_that_fails_to_load_in_a_from_import_runs_once(script, traced, plain) -> None:
    path = script("""
        import pkg
        try:
            from pkg import sub
        except RuntimeError as error:
            print("caught", error)
    """)
    modules(path.parent, **{"pkg.__init__": "", "pkg.sub": 'print("loading pkg.sub")\nraise RuntimeError("no GPU")\n'})
    result = assert_runs_as_plain(path, traced, plain)
    assert result.process.stdout.count("loading pkg.sub") == 1


def test_only_imports_that_the_line_is_sure_to_run_go_ahead_and_each_runs_once(script, traced, plain) -> None:
    path = script("""
        import one, two
        if len("a") > 1: import broken
        x = 1; import three
    """)
    modules(path.parent, broken=BROKEN, one='print("one")', two='print("two")', three='print("three")')
    result = assert_runs_as_plain(path, traced, plain)
    assert result.process.stdout == "one\ntwo\nthree\n"


def test_a_failure_in_a_package_getattr_for_from_import_fails_as_in_a_plain_run(script, traced, plain) -> None:
    """The package loaded; the names ``from`` asks for are looked up again by the line, traced."""
    path = script("""
        from lazy import Model
    """)
    modules(path.parent, **{"lazy.__init__": LAZY})
    result = assert_runs_as_plain(path, traced, plain)
    assert result.process.stderr.endswith("RuntimeError: Failed to import lazy.Model\n")
    assert "in _handle_fromlist" in result.process.stderr


def test_script_code_that_an_import_runs_is_traced(script, traced) -> None:
    path = script("""
        import sys

        class Announce:
            def find_spec(self, name, path=None, target=None):
                print("finding", name)
                return None

        sys.meta_path.insert(0, Announce())
        import helper
        import runfile
        if __name__ == "runfile":
            shown_when_imported = "as a module"
    """)
    modules(path.parent, helper="")
    result = traced(path)
    assert result.process.returncode == 0, result.process.stderr
    assert "finding helper" in result.process.stdout
    assert any(line.endswith('<|action_sep|>        print("finding", name)') for line in result.lines)
    assert any(line.endswith('<|action_sep|>    shown_when_imported = "as a module"') for line in result.lines)


def test_imports_before_a_marked_entry_fail_as_in_a_plain_run(script, traced, plain) -> None:
    path = script("""
        import json

        def main():  # << START_OF_TRACE
            return json.dumps([1])

        import broken
        main()
    """)
    modules(path.parent, broken=BROKEN)
    result = assert_runs_as_plain(path, traced, plain)
    assert result.meta["entry_reached"] is False


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import os", [(("os", None, 0),)]),
        ("import os\nimport json", [(("os", None, 0),), (("json", None, 0),)]),
        ("import os, json", [(("os", None, 0), ("json", None, 0))]),
        ("from os import path as p, sep", [(("os", ("path", "sep"), 0),)]),
        ("import os.path as q, json", [(("os.path", None, 0),), (("json", None, 0),)]),  # IMPORT_FROM may fail
        ("from . import x", [(("", ("x",), 1),)]),
        ("import os; print(os)", [(("os", None, 0),)]),
        ("x = [i for i in range(3)]", []),
    ],
)
def test_the_import_statements_a_code_object_starts_at_each_offset(source: str, expected: list) -> None:
    """Each is run ahead only at a line event at its offset: the next instructions are sure to run it."""
    table = ImportAhead("runfile.py").table(compile(source + "\n", "<test>", "exec"))
    assert list(table.values()) == expected


def test_an_odd_import_system_leaves_imports_to_the_script_and_tracing_goes_on(script, traced, plain) -> None:
    path = script("""
        import sys
        sys.meta_path = None
        try:
            import one
        except Exception as error:
            print(type(error).__name__, error)
    """)
    modules(path.parent, one='print("one")')
    result = assert_runs_as_plain(path, traced, plain)  # no tracer error either
    assert result.process.stdout.startswith("ImportError")


def test_a_script_that_replaces_import_sees_every_import_itself(script, traced, plain) -> None:
    path = script("""
        import builtins
        real = builtins.__import__

        def noisy(name, *args, **kwargs):
            print("importing", name)
            return real(name, *args, **kwargs)

        builtins.__import__ = noisy
        import one
        from two import x
    """)
    modules(path.parent, one="", two="x = 1")
    result = assert_runs_as_plain(path, traced, plain)
    assert result.process.stdout.startswith("importing one\n")  # importlib's own imports follow, as in plain
    assert "importing two\n" in result.process.stdout


def test_an_import_whose_constants_need_an_extended_arg_starts_at_its_prefix() -> None:
    source = "".join(f"v{n} = {n + 1000}\n" for n in range(300)) + "import os\n"
    code = compile(source, "<test>", "exec")
    line_start = next(offset for offset, line in dis.findlinestarts(code) if line == 301)
    assert ImportAhead("runfile.py").table(code) == {line_start: (("os", None, 0),)}
    assert any(ins.opname == "EXTENDED_ARG" and ins.offset == line_start for ins in dis.get_instructions(code))
