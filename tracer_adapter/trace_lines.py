"""What one trace line shows: its locals, its source text, the value it carries from the previous frame."""

from __future__ import annotations

import json
import re

from tracer_adapter.cwm_tracer import ACTION_SEP, ARG_SEP, CALL_SEP, FRAME_SEP, LINE_SEP

LOCALS_RE = re.compile(f"(?:{re.escape(CALL_SEP)}|{re.escape(LINE_SEP)})(.*?){re.escape(ACTION_SEP)}")


def line_locals(line: str) -> dict[str, str]:
    """The locals a call or line event shows, as rendered by the tracer ({} if none)."""
    found = LOCALS_RE.search(line)
    if not found:
        return {}
    try:
        value = json.loads(found.group(1))
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def line_source(line: str) -> str | None:
    """The source text an event line shows (after ``<|action_sep|>``), None if it shows none."""
    _, found, source = line.rpartition(ACTION_SEP)
    return source if found else None


def carried_value(line: str) -> str | None:
    """The value (``repr`` text) a line starting with ``<|arg_sep|>`` carries for the previous frame."""
    if not line.startswith(ARG_SEP):
        return None
    text = line[len(ARG_SEP) :]
    text = text.split(FRAME_SEP, 1)[0]
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, str) else None
