"""Rendered values are what repr gives at that moment, also when renderings are reused."""

from __future__ import annotations

import json


def _locals_at(lines: list[str], source: str) -> list[dict]:
    """The locals of every line event whose source line is ``source``."""
    found = []
    for line in lines:
        frame = line.rpartition("<|frame_sep|>")[2]  # a line event may follow a return's value
        head, _, action = frame.partition("<|action_sep|>")
        if action == source and head.startswith("<|line_sep|>"):
            found.append(json.loads(head[len("<|line_sep|>") :]))
    return found


def test_objects_with_own_repr_follow_changes(script, traced) -> None:
    path = script("""
        class Box:
            def __init__(self):
                self.items = []

            def __repr__(self):
                return "Box(%r)" % self.items

        class Broken:
            def __repr__(self):
                raise RuntimeError("no")

        def fill(b):
            b.items.append(1)

        box = Box()
        alias = box
        broken = Broken()
        alias.items.append(5)
        fill(box)
        box.items.append(2)
        nested = {"box": box}
        box.items.append(3)
        done = 1
    """)
    result = traced(path)
    assert result.process.returncode == 0
    assert _locals_at(result.lines, "fill(box)")[0]["box"] == "Box([5])"
    shown = _locals_at(result.lines, "box.items.append(2)")[0]
    assert shown["box"] == shown["alias"] == "Box([5, 1])"
    assert shown["broken"] == "<unrepresentable Broken: RuntimeError>"
    last = _locals_at(result.lines, "done = 1")[0]
    assert last["box"] == last["alias"] == "Box([5, 1, 2, 3])"
    assert last["nested"] == "{'box': Box([5, 1, 2, 3])}"  # containers are walked again every time


def test_containers_are_exact_after_nested_changes(script, traced) -> None:
    path = script("""
        grid = [[0, 0], [0, 0]]
        row = grid[0]
        row[1] = 7
        counts = {"a": [1]}
        counts["a"].append(2)
        done = 1
    """)
    last = _locals_at(traced(path).lines, "done = 1")[0]
    assert last == {"grid": "[[0, 7], [0, 0]]", "row": "[0, 7]", "counts": "{'a': [1, 2]}"}


def test_text_and_special_values_render_like_repr(script, traced) -> None:
    path = script("""
        from collections import deque, defaultdict, OrderedDict
        quote = 'say "hi"'
        both = "it's \\"x\\""
        raw = b"\\x00\\xff'"
        bag = defaultdict(list, {1: [2]})
        ring = deque([1, 2], maxlen=3)
        ordered = OrderedDict(a=1)
        empty = (set(), frozenset(), (), (1,), {}, [])
        mixed = [1.5, None, True, -3, 2 ** 70, "s"]
        loop = [1]
        loop.append(loop)
        done = 1
    """)
    last = _locals_at(traced(path).lines, "done = 1")[0]
    from collections import OrderedDict, defaultdict, deque

    loop: list = [1]
    loop.append(loop)
    expected = {
        "quote": 'say "hi"',
        "both": 'it\'s "x"',
        "raw": b"\x00\xff'",
        "bag": defaultdict(list, {1: [2]}),
        "ring": deque([1, 2], maxlen=3),
        "ordered": OrderedDict(a=1),
        "empty": (set(), frozenset(), (), (1,), {}, []),
        "mixed": [1.5, None, True, -3, 2**70, "s"],
        "loop": loop,
    }
    assert last == {name: repr(value) for name, value in expected.items()}


def test_subclasses_iterating_their_own_way_and_recursive_defaultdicts_render_like_repr(script, traced) -> None:
    path = script("""
        from collections import defaultdict


        class Active(list):
            def __iter__(self):
                return (x for x in list.__iter__(self) if x != "off")


        class Lookup(dict):
            def items(self):
                return [(k, v) for k, v in dict.items(self) if not k.startswith("_")]


        flags = Active(["on", "off", "on"])
        table = Lookup({"_hidden": "x", "shown": "y"})
        outer = []
        nested = defaultdict(list, {"k": outer})
        outer.append(nested)
        itself = defaultdict(list)
        itself["self"] = itself
        done = 1
    """)
    last = _locals_at(traced(path).lines, "done = 1")[0]  # the default value budget: the tracer's own walk
    assert last["flags"] == "['on', 'off', 'on']"
    assert last["table"] == "{'_hidden': 'x', 'shown': 'y'}"
    assert last["nested"] == "defaultdict(<class 'list'>, {'k': [defaultdict(<class 'list'>, {...})]})"
    assert last["itself"] == "defaultdict(<class 'list'>, {'self': defaultdict(<class 'list'>, {...})})"


def test_cut_text_is_a_prefix_of_repr(script, traced) -> None:
    path = script("""
        single = "it's" * 100
        double = 'say "x" and it\\'s' * 100
        data = b"\\x00'" * 100
        deep = [[[i, str(i)] for i in range(50)]]
        done = 1
    """)
    last = _locals_at(traced(path, "--max-value-chars", "30").lines, "done = 1")[0]
    values = {
        "single": "it's" * 100,
        "double": 'say "x" and it\'s' * 100,
        "data": b"\x00'" * 100,
        "deep": [[[i, str(i)] for i in range(50)]],
    }
    for name, value in values.items():
        text, marker = last[name][:30], last[name][30:]
        assert text == repr(value)[:30]
        assert marker.startswith("...<cut, ")


def test_deleted_values_are_released_as_in_a_plain_run(script, traced, plain) -> None:
    path = script("""
        import gc
        import weakref

        class Big:
            pass

        big = Big()
        ref = weakref.ref(big)
        del big
        gc.collect()
        print("released", ref() is None)
    """)
    assert plain(path).stdout == traced(path).process.stdout == "released True\n"


def test_reused_number_runs_follow_changes(script, traced) -> None:
    path = script("""
        nums = list(range(100))
        nums.append(5)
        nums[0] = 0.0
        nums[1] = True
        nums.clear()
        done = 1
    """)
    lines = traced(path, "--max-value-chars", "20").lines
    states = [list(range(100))]
    states.append(states[-1] + [5])
    states.append([0.0] + states[-1][1:])
    states.append([0.0, True] + states[-1][2:])
    for source, state in zip(
        ["nums.append(5)", "nums[0] = 0.0", "nums[1] = True", "nums.clear()"], states, strict=False
    ):
        assert _locals_at(lines, source)[0]["nums"] == repr(state)[:20] + f"...<cut, list of {len(state)} items>"
    assert _locals_at(lines, "done = 1")[0]["nums"] == "[]"
