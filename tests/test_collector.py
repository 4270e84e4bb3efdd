"""collector.tuned_for_run: the run's freeze is undone after it, even when the run fails."""

from __future__ import annotations

import gc

import pytest

from wwc_pipeline import collector


def test_freezes_for_the_run_only_and_keeps_the_thresholds():
    before = gc.get_threshold()
    with collector.tuned_for_run():
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_undone_when_the_run_raises():
    with pytest.raises(RuntimeError), collector.tuned_for_run():
        raise RuntimeError("portal failed")
    assert gc.get_freeze_count() == 0


def test_cyclic_garbage_of_the_run_is_still_collected():
    class Node:
        pass

    with collector.tuned_for_run():
        node = Node()
        node.self = node
        del node
        assert gc.collect() >= 1  # made after the freeze: collected as usual
