"""SharedRenderings: one rendering per live object for every frame, gone with its object, bounded."""

from __future__ import annotations

import gc

from tracer_adapter.cwm_tracer import SharedRenderings


class Thing:
    def __repr__(self) -> str:
        return "Thing()"


def test_a_rendering_is_found_for_the_same_live_object_only() -> None:
    shared = SharedRenderings()
    thing, other = Thing(), Thing()
    shared.put(thing, "Thing()", 3, None)
    assert shared.get(thing) == ("Thing()", 3, None)
    assert shared.get(other) is None
    shared.put(thing, "Thing() again", 5, ("key",))
    assert shared.get(thing) == ("Thing() again", 5, ("key",))


def test_an_entry_goes_with_its_object_so_a_reused_id_finds_nothing() -> None:
    shared = SharedRenderings()
    thing = Thing()
    shared.put(thing, "Thing()", 1, None)
    del thing
    gc.collect()
    assert not shared._by_id
    fresh = [Thing() for _ in range(50)]  # some may take the dead object's id
    assert all(shared.get(item) is None for item in fresh)


def test_objects_without_weak_references_are_not_shared() -> None:
    shared = SharedRenderings()
    value = (1, [2])
    shared.put(value, "(1, [2])", 1, None)
    assert shared.get(value) is None


def test_at_most_size_entries_are_kept_and_the_least_recently_used_goes_first() -> None:
    shared = SharedRenderings()
    things = [Thing() for _ in range(SharedRenderings.SIZE + 1)]
    for stamp, thing in enumerate(things):
        shared.put(thing, "Thing()", stamp, None)
        if stamp == 1:
            shared.put(things[0], "Thing()", stamp, None)  # used again: no longer the oldest
    assert len(shared._by_id) == SharedRenderings.SIZE
    assert shared.get(things[0]) is not None
    assert shared.get(things[1]) is None
    assert shared.get(things[-1]) is not None
