"""collector.tuned_for_run: the run's freeze and its rarer full collections are undone after it,
even when the run fails."""

from __future__ import annotations

import gc

import pytest

from wwc_pipeline import collector


def test_freezes_for_the_run_only_keeps_the_young_thresholds_and_spaces_full_collections():
    before = gc.get_threshold()
    with collector.tuned_for_run():
        assert gc.get_freeze_count() > 0
        young, middle, oldest = gc.get_threshold()
        assert (young, middle) == before[:2]  # garbage holding a socket goes as soon as usual
        assert oldest == max(before[2], collector.FULL_COLLECTION_EVERY) > 10  # Python's default: 10
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == before


def test_undone_when_the_run_raises():
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), collector.tuned_for_run():
        raise RuntimeError("portal failed")
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == before


def test_cyclic_garbage_of_the_run_is_still_collected():
    class Node:
        pass

    with collector.tuned_for_run():
        node = Node()
        node.self = node
        del node
        assert gc.collect() >= 1  # made after the freeze: collected as usual


def test_the_c_heaps_arenas_are_capped_unless_the_user_set_a_cap():
    import ctypes.util
    import sys

    glibc = sys.platform.startswith("linux") and "libc.so.6" in (ctypes.util.find_library("c") or "")
    assert collector.limit_malloc_arenas({}) is glibc  # mallopt(M_ARENA_MAX) accepted
    assert collector.limit_malloc_arenas({"MALLOC_ARENA_MAX": "8"}) is False  # the user's stands
