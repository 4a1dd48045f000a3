"""ContentKey: the same key exactly while an array's, DataFrame's or Series' repr cannot have changed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tracer_adapter.cwm_tracer import ContentKey


def parts(value):
    key = ContentKey().of(value)
    return None if key is None else key[0]


def test_a_key_changes_with_the_content_and_only_then() -> None:
    array = np.arange(6.0)
    frame = pd.DataFrame({"a": [1, 2], "s": ["x", "y"], "o": ["p", 1]})
    series = pd.Series([1.5, 2.5], name="n")
    for value, change in (
        (array, lambda: array.__setitem__(5, -1.0)),
        (frame, lambda: frame.__setitem__("a", [1, 3])),
        (frame, lambda: frame.loc.__setitem__((0, "o"), "q")),
        (series, lambda: setattr(series, "name", "m")),
        (series, lambda: setattr(series, "index", pd.Index([7, 8]))),
    ):
        before = parts(value)
        assert before is not None
        assert parts(value) == before
        change()
        assert parts(value) != before


def test_settings_that_repr_reads_are_part_of_the_key() -> None:
    array, series = np.arange(3.0), pd.Series([1.0])
    before = parts(array), parts(series)
    with np.printoptions(precision=2):
        assert parts(array) != before[0]
    with pd.option_context("display.max_rows", 3):
        assert parts(series) != before[1]
    with pd.option_context("display.float_format", "{:.1f}".format):
        assert parts(series) is None  # a function: what it prints may change
    assert (parts(array), parts(series)) == before


class Sub(np.ndarray):
    pass


@pytest.mark.parametrize(
    "value",
    [
        np.arange(3).view(Sub),
        np.zeros(ContentKey.ARRAY_BYTES // 8 + 1),
        np.array([None, [1]], dtype=object),
        pd.DataFrame({"l": [[1], [2]]}),
        pd.Series([1], index=pd.date_range("2020-01-01", periods=1)),
        pd.Series(["u"], dtype="category"),
        pd.DataFrame({"v": [1]}, index=pd.MultiIndex.from_tuples([(0, "a")])),
        [1, 2],
    ],
    ids=["subclass", "large array", "mutable items", "list column", "datetime index", "category", "multiindex", "list"],
)
def test_no_key_where_the_content_does_not_fix_the_repr(value) -> None:
    assert parts(value) is None


def test_object_items_are_kept_alive_so_their_ids_stay_theirs() -> None:
    items = np.array(["a" * 50, "b" * 50], dtype=object)
    key = ContentKey().of(items)
    assert key is not None
    assert set(map(id, key[1][0])) == set(map(id, items))
