"""Exact values: with its caps lifted the built-in tracer writes what a naive per-event ``repr`` tracer writes.

The corpus: the client's two examples, every demo script against the demo's
data, and small scripts that change objects behind the tracer's back (through
an alias, in place from C, in a generator, in a method).
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from itertools import zip_longest
from pathlib import Path

import pytest

from demo.catalogue import ROWS, SCRIPTS
from tracer_adapter.cwm_tracer import FRAME_SEP

NAIVE = Path(__file__).resolve().with_name("naive_tracer.py")
EXAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "trace_examples"
NO_CAPS = ("--max-frames", "0", "--max-bytes", "0", "--max-seconds", "0", "--max-value-chars", "0")
ADDRESS = re.compile(r"0x[0-9a-fA-F]+")
DEMO_FRAMES = 600  # the demo scripts are compared on their first frames (a whole uncapped run takes minutes)

SMALL = {
    "alias_pandas": """
        import pandas as pd


        def add_col(h):
            h["d"]["b"] = [4, 5, 6]


        def main():  # << START_OF_TRACE
            df = pd.DataFrame({"a": [1, 2, 3]})
            holder = {"d": df}
            add_col(holder)
            n = len(df.columns)
            df.drop(columns="a", inplace=True)
            return n + len(holder["d"].columns)


        main()
    """,
    "inplace_numpy": """
        import numpy as np


        def main():  # << START_OF_TRACE
            a = np.zeros(3)
            b = a
            b += 1
            np.add(a, 1, out=a)
            view = a[1:]
            view[:] = 7
            a.sort()
            rows = [a]
            rows[0][0] = -1
            return a.sum()


        main()
    """,
    "generator": """
        import pandas as pd


        def fill(df):
            for i in range(3):
                df.loc[i, "a"] = i * 10
                yield i


        def main():  # << START_OF_TRACE
            df = pd.DataFrame({"a": [0, 0, 0]})
            seen = []
            for i in fill(df):
                seen.append(i)
                total = int(df["a"].sum())
            return total, seen


        main()
    """,
    "numpy_content": """
        import numpy as np


        def bump(holder):
            holder["a"][0] += 1


        def fill(target, value):
            target[...] = value


        def main():  # << START_OF_TRACE
            a = np.arange(6.0)
            b = a[::2]
            b[0] = 5
            holder = {"a": a}
            bump(holder)
            np.add(a, 1, out=a)
            np.random.seed(0)
            np.random.shuffle(a)
            c = a / 3
            np.set_printoptions(precision=2)
            n = len(c)
            np.set_printoptions(precision=8)
            n = len(c)
            big = np.arange(2000.0)
            tail = big[1000:]
            fill(tail[-1:], -1.0)
            np.set_printoptions(threshold=10, edgeitems=2)
            n = len(big)
            np.set_printoptions(threshold=1000, edgeitems=3)
            every_third = big[::3]
            fill(big[:4], 9.0)
            m = np.zeros((3, 4), order="F")
            fill(m[1:2, 2:3], 7.0)
            t = m.T
            fill(m[0:1, 0:1], 1.5)
            huge = np.zeros(300000)
            fill(huge[-1:], 2.0)
            dates = np.array(["2020-01-01", "2021-06-30"], dtype="M8[D]")
            fill(dates[:1], np.datetime64("1999-12-31"))
            words = np.array(["x", "yy"])
            fill(words[1:], "zzz")
            items = np.array(["x", 1, None], dtype=object)
            items[0] = 1.0
            fill(items[1:2], True)
            lists = np.empty(2, dtype=object)
            lists[0] = [1]
            lists[1] = [2]
            lists[0].append(3)
            bump({"a": lists[1]})
            grid = np.arange(6.0)
            grid.shape = (2, 3)
            grid.shape = (3, 2)
            records = np.zeros(2, dtype=[("x", "i4"), ("y", "f8")])
            records.dtype.names = ("p", "q")
            flags = np.array([True, False])
            np.logical_not(flags, out=flags)
            return a.sum() + big.sum() + m.sum()


        main()
    """,
    "pandas_content": """
        import pandas as pd


        def set_b(h):
            h["d"]["b"] = [4.0, 5.0, 6.0]


        def set_first(h, value):
            h["d"].iloc[0, 0] = value


        def add(items, value):
            items.append(value)


        def main():  # << START_OF_TRACE
            df = pd.DataFrame({"a": [1, 2, 3]})
            holder = {"d": df}
            set_b(holder)
            df.loc[0, "a"] = 10
            df.iloc[1, 1] = None
            set_first(holder, 11)
            df.fillna(-1, inplace=True)
            df["s"] = ["x", "y", "z"]
            df.loc[2, "s"] = "w"
            set_first({"d": df[["s"]]}, "copy")
            s = df["a"]
            s.iloc[0] = 12
            s.name = "renamed"
            df.index.name = "row"
            df.columns = ["A", "B", "S"]
            df.rename(columns={"A": "a"}, inplace=True)
            pd.set_option("display.max_rows", 3)
            n = len(df)
            long = pd.DataFrame({"x": range(10)})
            n = len(long)
            pd.set_option("display.max_rows", 60)
            n = len(long)
            pd.set_option("display.precision", 2)
            f = pd.Series([1.23456, 2.5])
            pd.reset_option("display.precision")
            n = len(f)
            pd.options.display.float_format = "{:.1f}".format
            n = len(f)
            pd.options.display.float_format = None
            n = len(f)
            objects = pd.DataFrame({"l": [[1], [2]], "m": [1, "one"]})
            add(objects.loc[0, "l"], 3)
            objects.loc[1, "m"] = 1.0
            set_first({"d": objects}, [0])
            dated = pd.Series([1, 2], index=pd.date_range("2020-01-01", periods=2, name="day"))
            dated.iloc[0] = 5
            multi = pd.DataFrame({"v": [1, 2]}, index=pd.MultiIndex.from_tuples([(0, "a"), (1, "b")]))
            set_first({"d": multi}, 3)
            big = pd.DataFrame({"x": [0.0] * 200000, "y": range(200000)})
            big.iloc[199999, 0] = 1.0
            set_first({"d": big}, 2.0)
            cats = pd.Series(["u", "v"], dtype="category")
            cats.cat.rename_categories(["p", "q"])
            return len(df) + len(objects)


        main()
    """,
    "estimators": """
        import sklearn
        from sklearn.linear_model import LogisticRegression
        from sklearn.preprocessing import StandardScaler


        class Named(LogisticRegression):
            def __repr__(self):
                return f"Named(C={self.C})"


        def tune(holder, c):
            holder["m"].set_params(C=c)


        def main():  # << START_OF_TRACE
            model = LogisticRegression(max_iter=50)
            holder = {"m": model}
            model.fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
            tune(holder, 0.5)
            model.max_iter = 100
            model.C = 1.0
            vars(model)["tol"] = 0.01
            sklearn.set_config(print_changed_only=False)
            n = model.n_features_in_
            sklearn.set_config(print_changed_only=True)
            LogisticRegression.__init__.__kwdefaults__["max_iter"] = 50
            n = model.n_features_in_
            LogisticRegression.__init__.__kwdefaults__["max_iter"] = 100
            weighted = LogisticRegression(class_weight={0: 1.0, 1: 2.0})
            weighted.class_weight[1] = 3.0
            named = Named(C=2.0)
            named.C = 3.0
            scaler = StandardScaler().fit([[1.0], [3.0]])
            scaler.with_mean = False
            return n


        main()
    """,
    "settings_changed_by_a_repr": """
        import pandas as pd


        class Narrowing:
            def __init__(self, rows):
                self.rows = rows

            def __repr__(self):
                pd.set_option("display.max_rows", self.rows)
                return "Narrowing(%d)" % self.rows


        def main():  # << START_OF_TRACE
            first = pd.Series([1, 2, 3])
            n = Narrowing(60)
            df = pd.DataFrame({"a": range(6)})
            n.rows = 2
            pd.set_option("display.max_rows", 60)
            return len(df)


        main()
    """,
    "settings_changed_by_a_repr_shown_later": """
        import pandas as pd


        class Narrowing:
            def __repr__(self):
                pd.set_option("display.max_rows", 2)
                return "Narrowing()"


        def main():  # << START_OF_TRACE
            df = pd.DataFrame({"a": range(6)})
            n = Narrowing()
            x = 1
            y = 2
            pd.set_option("display.max_rows", 60)
            return len(df) + x + y


        main()
    """,
    "globals_and_closures_read_by_a_repr": """
        class Shown:
            def __repr__(self):
                return "Shown(mode=%d, label=%s)" % (MODE, LABEL)


        MODE = 1
        LABEL = "before"


        def main():  # << START_OF_TRACE
            global MODE
            level = 1

            class Level:
                def __repr__(self):
                    return "Level(%d)" % level

            s = Shown()
            seen = Level()
            MODE = 2
            x = 1
            level = 3
            y = 2
            return s, seen, x, y


        shown = Shown()
        LABEL = "after"
        done = main()
    """,
    "repr_replaced_on_the_class": """
        import pandas as pd


        class Plain:
            def __repr__(self):
                return "Plain()"


        def main():  # << START_OF_TRACE
            df = pd.DataFrame({"a": [1, 2]})
            p = Plain()
            pd.DataFrame.__repr__ = lambda self: "<frame of %d rows>" % len(self)
            Plain.__repr__ = lambda self: "Replaced()"
            n = len(df)
            return n


        main()
    """,
    "shared_between_frames": """
        import numpy as np
        import pandas as pd


        def score(frame, k):
            return frame["a"].iloc[k]


        def grow(frame):
            frame["b"] = frame["a"] * 2


        def main():  # << START_OF_TRACE
            df = pd.DataFrame({"a": [1, 2, 3]})
            weights = np.arange(3.0)
            picked = pd.Series([0, 2]).map(lambda k: df["a"].iloc[k] * weights[k])
            first = score(df, 0)
            grow(df)
            weights[0] = 9.0
            again = pd.Series([0, 1]).map(lambda k: score(df, k) + weights[k])
            alias = df
            alias.loc[0, "a"] = 7
            return first + again.sum() + picked.sum() + score(alias, 0)


        main()
    """,
    "classes": """
        class Box:
            size = 2

            def __init__(self, items):
                self.items = items

            def __repr__(self):
                return f"Box({self.items!r})"

            def grow(self, other):
                other.items.append(len(self.items))


        class Shelf:
            def __init__(self, box):
                self.box = box

            def __repr__(self):
                return f"Shelf({self.box!r})"


        def main():  # << START_OF_TRACE
            box = Box([1])
            shelf = Shelf(box)
            same = shelf.box
            box.grow(same)
            same.items += [9]
            shelf.box.items[0] = 0
            del same
            return shelf


        main()
    """,
}


def _same_as_naive(script: Path, run_traced, frames: int = 0) -> None:
    """The built-in tracer's trace (its first ``frames`` frames, if given) is the naive tracer's."""
    naive_out = script.parent / "naive.trace"
    argv = [sys.executable, str(NAIVE), script.name, str(naive_out), str(frames)]
    subprocess.run(argv, cwd=script.parent, capture_output=True, timeout=300)
    # with a frame budget of 2 x frames, the first half is written as it comes: the frames to compare
    options = NO_CAPS if not frames else (*NO_CAPS[:1], str(2 * frames), *NO_CAPS[2:5], "120", *NO_CAPS[6:])
    traced = run_traced(script, *options, timeout=300)
    expected = ADDRESS.sub("0xADDR", naive_out.read_text(encoding="utf-8"))
    got = ADDRESS.sub("0xADDR", traced.trace)
    parts = got.split(FRAME_SEP)
    if frames and len(parts) > frames + 2:  # more than ``frames`` frames: keep the first ones
        got = FRAME_SEP.join(parts[: frames + 1]) + FRAME_SEP
    assert expected.count("<|frame_sep|>") > 2
    if got != expected:  # name the first differing line rather than diff megabytes
        pairs = enumerate(zip_longest(expected.split("\n"), got.split("\n"), fillvalue=""), 1)
        n, (want, have) = next((n, pair) for n, pair in pairs if pair[0] != pair[1])
        pytest.fail(
            f"trace line {n} differs from the naive tracer's:\n  naive:  {want[:2000]}\n  traced: {have[:2000]}"
        )


@pytest.mark.parametrize("name", sorted(SMALL))
def test_objects_changed_behind_the_tracer_are_shown_as_repr_shows_them(name: str, tmp_path: Path, traced) -> None:
    script = tmp_path / f"{name}.py"
    script.write_text(textwrap.dedent(SMALL[name]).lstrip("\n"))
    _same_as_naive(script, traced)


def test_an_object_whose_class_property_raises_does_not_stop_tracing(tmp_path: Path, traced) -> None:
    """Telling what a module namespace skips never asks the script's code (a __class__ property)."""
    script = tmp_path / "proxy.py"
    script.write_text(
        textwrap.dedent("""
            class Proxy:
                @property
                def __class__(self):
                    raise RuntimeError("unbound proxy")

                def __repr__(self):
                    return "<Proxy>"


            proxy = Proxy()
            total = 0
            for i in range(3):
                total += i
        """).lstrip("\n")
    )
    result = traced(script, *NO_CAPS)
    assert result.meta["tracer_error"] is None
    assert '"proxy": "<Proxy>", "total": "3", "i": "2"' in result.trace


@pytest.mark.parametrize("name", ["ex1", "ex2"])
def test_the_client_examples(name: str, tmp_path: Path, traced) -> None:
    script = tmp_path / f"{name}.py"
    script.write_bytes((EXAMPLES / f"{name}.py").read_bytes())
    _same_as_naive(script, traced)


DEMO_SCRIPTS = sorted({row.script: row for row in ROWS if row.rerun_exception != "SyntaxError"}.values(), key=str)


@pytest.mark.parametrize("row", DEMO_SCRIPTS, ids=[row.script for row in DEMO_SCRIPTS])
def test_the_demo_scripts(row, demo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, traced) -> None:
    if row.rerun_verdict == "time_limit":
        pytest.skip("runs until its time limit by design")
    script = tmp_path / row.script
    script.write_bytes((SCRIPTS / row.script).read_bytes())
    (tmp_path / "data").symlink_to(demo.data_root / row.competition_id / "prepared" / "public")
    monkeypatch.setenv("PYTHONHASHSEED", "0")  # sets of strings print in the same order in both runs
    _same_as_naive(script, traced, DEMO_FRAMES)
