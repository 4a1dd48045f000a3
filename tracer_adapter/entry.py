"""Where a trace starts: the script's functions, the default entry, and the marked code.

The built-in tracer (``cwm_tracer.py``) traces the module itself when no
function is marked. The client's tracer only traces a function whose ``def``
line carries ``# << START_OF_TRACE``, so for a top-level script ``with_marker``
returns a wrapped form (see ``_wrapped_script``).
"""

from __future__ import annotations

import ast
import io

from runner.tracebacks import parse_error
from workspace.errors import InputError

MARKER = "# << START_OF_TRACE"
WRAPPER_NAME = "_nodefix_script"

_Def = (ast.FunctionDef, ast.AsyncFunctionDef)


def _functions(tree: ast.AST) -> list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """(qualified name, node) of every def in source order; ``Class.method``, ``outer.inner``."""
    found: list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]] = []

    def visit(node: ast.AST, scope: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (*_Def, ast.ClassDef)):
                name = f"{scope}{child.name}"
                if isinstance(child, _Def):
                    found.append((name, child))
                visit(child, name + ".")
            else:
                visit(child, scope)

    visit(tree, "")
    found.sort(key=lambda item: (item[1].lineno, item[1].col_offset))
    return found


def marker_functions(code: str) -> list[str]:
    """The functions defined in ``code``, qualified, in source order; [] if it does not parse."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return []
    return [name for name, _ in _functions(tree)]


def default_entry(code: str, recorded_output: str | None) -> str | None:
    """The innermost function of ``code`` enclosing the failing line of the recorded traceback.

    None (trace the whole script) when there is no traceback, the failure is
    at top level, or the code does not parse.
    """
    if not recorded_output:
        return None
    error = parse_error(recorded_output, code)
    if error is None or error.lineno is None or error.function in (None, "<module>"):
        return None
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return None
    enclosing = [
        (name, node)
        for name, node in _functions(tree)
        if node.lineno <= error.lineno <= (node.end_lineno or node.lineno)
    ]
    if not enclosing:
        return None
    # a lambda or comprehension fails inside its def: the innermost enclosing def is the entry
    named = [name for name, node in enclosing if node.name == error.function]
    return named[-1] if named else enclosing[-1][0]


def with_marker(code: str, entry: str | None) -> str:
    """``code`` with the marker on ``entry``'s def line; ``entry`` None: the wrapped whole script.

    With an entry, every other line stays identical except that a marker left
    on another def line is removed (one entry per trace).
    """
    if entry is None:
        return _wrapped_script(code)
    try:
        tree = ast.parse(code)
    except SyntaxError as error:
        raise InputError(
            f"code: line {error.lineno}, column {error.offset}: cannot mark an entry in "
            f"code that does not parse: {error.msg}"
        ) from None
    functions = _functions(tree)
    nodes = [node for name, node in functions if name == entry]
    if not nodes:
        raise InputError(
            f"entry {entry!r}: no such function in the code "
            f"(functions: {', '.join(name for name, _ in functions) or 'none'})"
        )
    target = nodes[0].lineno
    def_lines = {node.lineno for _, node in functions}
    lines = _physical_lines(code)
    for lineno, line in enumerate(lines, start=1):
        body = line.rstrip("\r\n")
        ending = line[len(body) :]
        if lineno == target:
            if MARKER not in body:
                if body.endswith("\\"):
                    raise InputError(
                        f"entry {entry!r}: line {lineno}: the def line ends with a "
                        f"backslash, so no comment can be added to it"
                    )
                body = f"{body}  {MARKER}"
        elif MARKER in body and lineno in def_lines:
            body = body.replace(MARKER, "").rstrip()
        lines[lineno - 1] = body + ending
    return "".join(lines)


def _physical_lines(code: str) -> list[str]:
    """The lines Python numbers (split at \\n, \\r\\n and \\r only), endings kept."""
    return io.StringIO(code, newline="").readlines()


def _wrapped_script(code: str) -> str:
    """The script made traceable by a tracer that only follows a marked function.

    Shape (the script's lines are kept verbatim, one line further down)::

        if False: r'''
        <the script, every line unchanged>
        '''
        def _nodefix_script():  # << START_OF_TRACE
            exec(compile("\\n" + "".join(__import__("linecache").getlines(__file__)[1:N + 1]),
                         __file__, "exec"), globals())
        <setup: __builtins__, __name__ and sys.modules["__main__"]>

    The marked function runs the script's own text, compiled with this file's
    name and line numbers, in this module's globals: a tracer that follows
    frames of this file sees the script's ``<module>`` frame with its lines as
    written; module globals stay globals; the module is ``__main__`` so
    ``if __name__ == "__main__":`` runs and functions pickle; a spawned
    multiprocessing child (``__mp_main__``) runs the script's top level as a
    plain run's child would.
    """
    lines = _physical_lines(code)
    quote = "'''" if "'''" not in code else '"""'
    if quote in code:
        raise InputError(
            "code: holds both ''' and \"\"\", so it cannot be wrapped for the client's tracer; "
            "mark a function to trace instead"
        )
    text = code if code.endswith(("\n", "\r")) or not code else code + "\n"
    count = len(lines)
    wrapper = (
        f"{quote}\n"
        f"def {WRAPPER_NAME}():  {MARKER}\n"
        f'    exec(compile("\\n" + "".join(__import__("linecache").getlines(__file__)[1:{count + 1}]), '
        f'__file__, "exec"), globals())\n'
        f"\n"
        f"\n"
        f'__builtins__ = __import__("builtins")\n'
        f'if __name__ == "__mp_main__":\n'
        f"    {WRAPPER_NAME}()\n"
        f"else:\n"
        f'    __import__("sys").modules["__main__"] = __import__("sys").modules[__name__]\n'
        f'    __name__ = "__main__"\n'
    )
    return f"if False: r{quote}\n{text}{wrapper}"
