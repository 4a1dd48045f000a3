"""Row numbers between pyarrow and numpy, through the buffers: pyarrow's own conversions import pandas.

``Array.to_numpy`` and ``pa.array(...)`` of a numpy array or a Python list load pandas, most of a
second, which the queue and the headless commands never need otherwise.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence

import numpy as np
import pyarrow as pa


def numpy_rows(indices: pa.Array) -> np.ndarray:
    """An arrow array of non-null unsigned or signed 64-bit row numbers, as a numpy int64 array."""
    if not len(indices):
        return np.zeros(0, dtype=np.int64)
    data = indices.buffers()[1]
    return np.frombuffer(data, dtype=np.int64, count=len(indices), offset=indices.offset * 8)


def arrow_rows(rows: np.ndarray) -> pa.Array:
    """Row numbers (numpy) as an arrow int64 array, to take rows with."""
    rows = np.ascontiguousarray(rows, dtype=np.int64)
    return pa.Array.from_buffers(pa.int64(), len(rows), [None, pa.py_buffer(rows)])


def arrow_texts(texts: Sequence[str], kind: pa.DataType) -> pa.Array:
    """Python strings as an arrow string (or large_string) array of type ``kind``."""
    encoded = [text.encode("utf-8") for text in texts]
    offsets = array("q" if pa.types.is_large_string(kind) else "i", [0])
    total = 0
    for data in encoded:
        total += len(data)
        offsets.append(total)
    return pa.Array.from_buffers(kind, len(encoded), [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded))])
