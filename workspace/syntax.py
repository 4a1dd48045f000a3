"""Whether a piece of Python source parses, as one line for people."""

from __future__ import annotations

import ast
import warnings


def syntax_problem(code: str) -> str | None:
    """None if ``code`` parses, else ``"line N: message"``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escape sequences etc. are the script's business
            ast.parse(code)
    except SyntaxError as exc:
        return f"line {exc.lineno}: {exc.msg}"
    except ValueError as exc:  # null bytes in the source
        return str(exc)
    return None
