"""What one trace line shows: its locals, its source text, the value it carries from the previous frame."""

from __future__ import annotations

import json
import re

from tracer_adapter.cwm_tracer import ACTION_SEP, ARG_SEP, CALL_SEP, FRAME_SEP, LINE_SEP

LOCALS_RE = re.compile(f"(?:{re.escape(CALL_SEP)}|{re.escape(LINE_SEP)})(.*?){re.escape(ACTION_SEP)}")


def line_locals(line: str, *, keep_unreadable: bool = False) -> dict[str, str]:
    """The locals a call or line event shows, as rendered by the tracer ({} if none).

    A value that is not text (the tracer writes none) is given as its JSON text. Locals that are not a JSON
    object are dropped, or with ``keep_unreadable`` kept whole under the name "?".
    """
    found = LOCALS_RE.search(line)
    if not found or not found.group(1):
        return {}
    text = found.group(1)
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        return {"?": text} if keep_unreadable else {}
    return {str(name): v if isinstance(v, str) else json.dumps(v) for name, v in value.items()}


def line_source(line: str) -> str | None:
    """The source text an event line shows (after ``<|action_sep|>``), None if it shows none."""
    _, found, source = line.rpartition(ACTION_SEP)
    return source if found else None


def carried_value(line: str, *, undecoded_as_text: bool = False) -> str | None:
    """The value (``repr`` text) a line starting with ``<|arg_sep|>`` carries for the previous frame.

    A value that is not a JSON string gives None, or with ``undecoded_as_text`` its text as it stands.
    """
    if not line.startswith(ARG_SEP):
        return None
    text = line[len(ARG_SEP) :].split(FRAME_SEP, 1)[0].rstrip("\n")
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if isinstance(value, str):
        return value
    return text if undecoded_as_text else None
