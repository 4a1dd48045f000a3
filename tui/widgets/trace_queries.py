"""Questions the trace browser asks of a trace index: filters, call boundaries, a line's locals and source.

Plain functions over ``TraceIndex`` and raw lines, free of Textual, so the
browser widget keeps to drawing and keys. Searches hop through the file with
``TraceIndex.find`` / ``lines_containing`` (mmap) rather than reading every
line's info, which keeps them fast on a million-frame trace.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

import numpy as np

from tracer_adapter.cwm_tracer import CALL_SEP, EXCEPTION_SEP, LINE_SEP, RETURN_SEP

if TYPE_CHECKING:
    from tracer_adapter.trace_index import TraceIndex

KINDS = ("call", "line", "return", "exception")
KIND_TOKENS = dict(zip(KINDS, (CALL_SEP, LINE_SEP, RETURN_SEP, EXCEPTION_SEP), strict=True))
RETURN_TOKEN = KIND_TOKENS["return"]
CALL_TOKEN = KIND_TOKENS["call"]


def matching_lines(
    index: TraceIndex, kinds: frozenset[str], text: str, is_cancelled: Callable[[], bool] = lambda: False
) -> np.ndarray:
    """Index lines that pass a filter, in order.

    ``kinds`` empty means every kind. A line that starts with the previous
    event's ``<|arg_sep|>`` value also passes for that event's kind, so an
    exception filter keeps the exception's value. ``text`` empty means any text.
    Candidates come from a search of the file (the text, or the kinds' tokens),
    then each is checked against the index.
    """
    if text:
        candidates: Iterable[int] = index.lines_containing(text, len(index))
    elif kinds:
        found_tokens = [index.lines_containing(KIND_TOKENS[kind], len(index)) for kind in kinds]
        events = np.unique(np.concatenate([np.asarray(f, dtype=np.int64) for f in found_tokens]))
        candidates = np.union1d(events, events[events + 1 < len(index)] + 1).tolist()
    else:
        return np.arange(len(index), dtype=np.int64)
    if not kinds:
        return np.asarray(candidates, dtype=np.int64)
    found: list[int] = []
    for n, i in enumerate(candidates):
        if n % 4096 == 0 and is_cancelled():
            break
        info = index.info(i)
        if info.kind in kinds or (
            (info.carries_value or info.kind == "arg") and i > 0 and index.info(i - 1).kind in kinds
        ):
            found.append(i)
    return np.asarray(found, dtype=np.int64)


def call_end(index: TraceIndex, call_line: int) -> int:
    """The index line where the call starting at ``call_line`` returns (or the last line).

    Steps from one ``<|return_sep|>`` to the next through the file rather than
    reading every line's info: nested calls return at a greater depth.
    """
    depth = index.info(call_line).depth
    j = index.find(RETURN_TOKEN, call_line + 1)
    while j is not None:
        info = index.info(j)
        if info.kind == "return" and info.depth <= depth:
            return j
        j = index.find(RETURN_TOKEN, j + 1) if j + 1 < len(index) else None
    return len(index) - 1


def enclosing_call(index: TraceIndex, line: int) -> int | None:
    """The call line of the invocation that ``line`` belongs to (None if the trace lost it).

    Hops back from one ``<|call_sep|>`` to the previous: calls at a greater
    depth are nested calls that already returned.
    """
    depth = index.info(line).depth
    j: int | None = line
    while j is not None:
        info = index.info(j)
        if info.kind == "call" and info.depth <= depth:
            return j if info.depth == depth else None
        j = index.find(CALL_TOKEN, j - 1, backwards=True) if j > 0 else None
    return None
