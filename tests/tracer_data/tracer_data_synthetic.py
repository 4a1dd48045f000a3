"""A large CWM trace written directly in the tracer's format, for index tests and the index bench.

The trace is what ``SYNTHETIC_CODE`` would give: ``main`` loops calling
``step``, each iteration is 7 frames, and the last call raises ``ValueError``.
``value_chars`` adds a rendered value of about that length (``rows``) to
``main``'s locals, as real traces carry lists and DataFrames cut at the value
budget.
"""

from __future__ import annotations

from pathlib import Path

SYNTHETIC_CODE = """\
def step(x):
    y = x * 2
    if y > LIMIT:
        raise ValueError(y)
    return y % 7
def main():  # << START_OF_TRACE
    total = 0
    for i in range(N):
        total += step(i)
    return total
"""
FRAMES_PER_ITERATION = 7
_CHUNK_ITERATIONS = 20_000


def _iteration(i: int, total: int, rows: str) -> str:
    main_locals = f'{{{rows}"total": "{total}", "i": "{i}"}}'
    return (
        f"<|frame_sep|><|line_sep|>{main_locals}<|action_sep|>    for i in range(N):\n"
        f"<|frame_sep|><|line_sep|>{main_locals}<|action_sep|>        total += step(i)\n"
        f'<|frame_sep|><|call_sep|>{{"x": "{i}"}}<|action_sep|>def step(x):\n'
        f'<|frame_sep|><|line_sep|>{{"x": "{i}"}}<|action_sep|>    y = x * 2\n'
        f'<|frame_sep|><|line_sep|>{{"x": "{i}", "y": "{2 * i}"}}<|action_sep|>    if y > LIMIT:\n'
        f'<|frame_sep|><|line_sep|>{{"x": "{i}", "y": "{2 * i}"}}<|action_sep|>    return y % 7\n'
        f"<|frame_sep|><|return_sep|><|action_sep|>    return y % 7\n"
        f'<|arg_sep|>"{2 * i % 7}"'
    )


def write_synthetic_trace(path: Path, frames: int, value_chars: int = 0) -> Path:
    """Write a trace of about ``frames`` frames (and its code beside it as ``<trace>.code.py``); return its path."""
    iterations = max(frames // FRAMES_PER_ITERATION - 1, 1)
    total = 0
    last = iterations
    rows = f'"rows": "[{"1, " * (value_chars // 3)}...<cut>]", ' if value_chars else ""
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write(
            "<|frame_sep|><|call_sep|>{}<|action_sep|>def main():  # << START_OF_TRACE\n"
            "<|frame_sep|><|line_sep|>{}<|action_sep|>    total = 0\n"
        )
        for first in range(0, iterations, _CHUNK_ITERATIONS):
            parts = []
            for i in range(first, min(first + _CHUNK_ITERATIONS, iterations)):
                parts.append(_iteration(i, total, rows))
                total += 2 * i % 7
            out.write("".join(parts))
        error = f"\"(<class 'ValueError'>, ValueError({2 * last}), <traceback object at 0x7f00>)\""
        out.write(
            f'<|frame_sep|><|line_sep|>{{{rows}"total": "{total}", "i": "{last}"}}<|action_sep|>        total += step(i)\n'
            f'<|frame_sep|><|call_sep|>{{"x": "{last}"}}<|action_sep|>def step(x):\n'
            f'<|frame_sep|><|line_sep|>{{"x": "{last}"}}<|action_sep|>    y = x * 2\n'
            f'<|frame_sep|><|line_sep|>{{"x": "{last}", "y": "{2 * last}"}}<|action_sep|>    if y > LIMIT:\n'
            f'<|frame_sep|><|line_sep|>{{"x": "{last}", "y": "{2 * last}"}}<|action_sep|>'
            f"        raise ValueError(y)\n"
            f"<|frame_sep|><|exception_sep|><|action_sep|>        raise ValueError(y)\n"
            f"<|arg_sep|>{error}<|frame_sep|><|return_sep|><|action_sep|>        raise ValueError(y)\n"
            f'<|arg_sep|>"None"<|frame_sep|><|exception_sep|><|action_sep|>        total += step(i)\n'
            f"<|arg_sep|>{error}<|frame_sep|><|return_sep|><|action_sep|>        total += step(i)\n"
            f'<|arg_sep|>"None"<|frame_sep|>'
        )
    Path(str(path) + ".code.py").write_text(SYNTHETIC_CODE, encoding="utf-8")
    return path
