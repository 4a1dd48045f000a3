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


def test_pandas_options_are_read_again_after_forget_only() -> None:
    keys, series = ContentKey(), pd.Series([1.0])
    before = keys.of(series)[0]
    pd.set_option("display.max_rows", 7)  # a new value in a nested option dict
    try:
        assert keys.of(series)[0] == before  # not read again before forget(): the key is of that event
        keys.forget()
        changed = keys.of(series)[0]
        assert changed != before
    finally:
        pd.reset_option("display.max_rows")
    keys.forget()
    assert keys.of(series)[0] == before != changed


def test_an_option_dict_replaced_or_added_to_or_an_equal_value_set_changes_the_key() -> None:
    config = pd._config.config._global_config
    display = config["display"]
    keys, series = ContentKey(), pd.Series([1.0])
    before = keys.of(series)[0]
    off = next(name for name, value in display.items() if value is False)

    def changed() -> bool:
        keys.forget()
        return keys.of(series)[0] != before

    module = pd._config.config
    try:
        config["display"] = dict(display, max_rows=5)  # a new dict is what pandas reads
        assert changed()
        config["display"] = display
        assert not changed()
        module._global_config = dict(config, display=dict(display, max_rows=5))
        assert changed()
        module._global_config = config
        assert not changed()
        display["extra"] = 1  # a new option
        assert changed()
        del display["extra"]
        assert not changed()
        display[off] = 0  # == False, printed otherwise
        assert changed()
    finally:
        module._global_config = config
        config["display"] = display
        display.pop("extra", None)
        display[off] = False
    assert not changed()


def test_an_option_renamed_in_place_changes_the_key() -> None:
    display = pd._config.config._global_config["display"]
    keys, series = ContentKey(), pd.Series([1.0])
    before = keys.of(series)[0]
    name, value = next(iter(display.items()))
    others = list(display)[1:]

    def others_last() -> None:  # the same values in the same order as before
        for other in others:
            display[other] = display.pop(other)

    try:
        del display[name]
        display[name + "_"] = value
        others_last()
        keys.forget()
        assert keys.of(series)[0] != before
    finally:
        display.pop(name + "_", None)
        display[name] = value
        others_last()
    keys.forget()
    assert keys.of(series)[0] == before


def test_the_terminal_size_is_part_of_a_pandas_key(monkeypatch: pytest.MonkeyPatch) -> None:
    keys, frame = ContentKey(), pd.DataFrame({"a": [1]})
    monkeypatch.setenv("COLUMNS", "91")
    before = keys.of(frame)[0]
    monkeypatch.setenv("COLUMNS", "92")
    keys.forget()
    assert keys.of(frame)[0] != before


def test_numpy_print_options_are_read_again_after_forget() -> None:
    keys, array = ContentKey(), np.arange(3.0)
    before = keys.of(array)[0]
    with np.printoptions(precision=3):
        keys.forget()
        assert keys.of(array)[0] != before
    keys.forget()
    assert keys.of(array)[0] == before


def test_a_shape_or_dtype_set_in_place_changes_the_key() -> None:
    array = np.arange(6)
    before = parts(array)
    array.shape = (2, 3)  # the same bytes
    assert parts(array) != before
    array.shape = (6,)
    assert parts(array) == before
    array.dtype = np.uint64  # the same bytes, other numbers
    assert parts(array) != before


def test_views_are_keyed_by_their_numbers_in_order() -> None:
    grid = np.arange(12.0).reshape(3, 4)
    column, transposed = grid[:, 1], grid.T
    keys = {name: parts(view) for name, view in (("column", column), ("transposed", transposed))}
    assert keys["transposed"] == parts(grid.T.copy())  # the same numbers in the same order: the same repr
    assert keys["transposed"] != parts(grid.T.copy(order="C").reshape(3, 4))
    grid[2, 1] = -1
    assert parts(column) != keys["column"]
    assert parts(transposed) != keys["transposed"]


def test_estimator_settings_and_defaults_are_part_of_its_key() -> None:
    sklearn = pytest.importorskip("sklearn")
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=2.0)
    before = parts(model)
    assert before is not None
    assert parts(model) == before
    with sklearn.config_context(print_changed_only=False):
        assert parts(model) != before
    assert parts(model) == before
    model.C = 2  # == 2.0, printed otherwise
    assert parts(model) != before
    model.C = 2.0
    assert parts(model) == before
    init = LogisticRegression.__init__
    saved = init.__kwdefaults__
    first = next(iter(saved))
    try:
        init.__kwdefaults__ = {**saved, first: [saved[first]]}  # a mutable default
        assert parts(model) is None
        init.__kwdefaults__ = {("renamed" if name == first else name): value for name, value in saved.items()}
        assert parts(model) != before  # the same objects in the same order, under another name
    finally:
        init.__kwdefaults__ = saved
    assert parts(model) == before


def test_an_option_dict_holding_itself_is_walked_once() -> None:
    display = pd._config.config._global_config["display"]
    keys, series = ContentKey(), pd.Series([1.0])
    before = keys.of(series)[0]
    display["itself"] = display
    try:
        keys.forget()
        assert keys.of(series)[0] != before
    finally:
        del display["itself"]
    keys.forget()
    assert keys.of(series)[0] == before


class OwnFloat(np.float64):
    pass


def test_a_numpy_scalar_is_keyed_by_its_identity_and_the_print_options() -> None:
    value = np.float64(1.5)
    before = parts(value)
    assert before is not None
    assert parts(value) == before
    assert parts(np.float64(1.5)) != before  # another object: rendered again
    with np.printoptions(precision=3):
        assert parts(value) != before
    assert parts(np.int64(3)) is not None
    assert parts(np.bool_(True)) is not None
    assert parts(OwnFloat(1.5)) is None  # a subclass may have a repr of its own
