"""Work handed back by a forked child (forked_items.py): the items in order, made in another
process; whatever the child cannot give (it raised, died, hung, sent what cannot be pickled),
`next()` answers None from then on and the child is gone."""

from __future__ import annotations

import os
import time

import pytest

from wwc_pipeline import forked_items
from wwc_pipeline.forked_items import ForkedItems

pytestmark = pytest.mark.skipif(not forked_items.can_fork(), reason="fork() is used on Linux only")


def gone(pid: int) -> bool:
    """The process is neither running nor a zombie waiting to be reaped (by us)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def test_the_items_come_in_order_from_another_process_that_sees_the_parents_data():
    data = {"rows": list(range(50_000))}  # reaches the child by fork, not through the pipe
    with ForkedItems(lambda: ((os.getpid(), sum(data["rows"][k::3])) for k in range(3))) as child:
        pid = child.pid
        items = [child.next() for _ in range(4)]
    assert [total for _, total in items[:3]] == [sum(range(50_000)[k::3]) for k in range(3)]
    assert {maker for maker, _ in items[:3]} == {pid} and pid != os.getpid()
    assert items[3] is None  # no more: the caller makes what it still needs
    assert gone(pid)


@pytest.mark.parametrize("how", ["raises", "exits", "unpicklable"])
def test_a_child_that_cannot_go_on_gives_what_it_made_then_none(how):
    def produce():
        yield "first"
        if how == "raises":
            raise ValueError("broken")
        if how == "exits":
            os._exit(3)
        yield lambda: None  # pickle refuses a lambda
        yield "never"

    with ForkedItems(produce) as child:
        pid = child.pid
        assert child.next() == "first"
        assert child.next() is None
        assert child.next() is None  # and stays so
    assert gone(pid)


def test_a_child_slower_than_the_wait_is_killed_and_the_caller_goes_on():
    def produce():
        yield 1
        time.sleep(60)
        yield 2

    child = ForkedItems(produce, wait_s=0.3)
    pid = child.pid
    assert child.next() == 1
    started = time.monotonic()
    assert child.next() is None
    assert time.monotonic() - started < 30  # gave up after its wait, not after the child's minute
    assert child.pid is None and gone(pid)


def test_a_big_item_crosses_the_pipe_whole():
    rows = [(index, f"row {index}", "x" * 40) for index in range(100_000)]  # some megabytes
    with ForkedItems(lambda: iter([rows, rows[:3]])) as child:
        assert child.next() == rows
        assert child.next() == rows[:3]


def test_without_fork_nothing_is_started_and_every_item_is_left_to_the_caller(monkeypatch):
    monkeypatch.setattr(forked_items, "can_fork", lambda: False)
    called = []
    child = ForkedItems(lambda: called.append(1) or iter([1]))
    assert child.pid is None and child.next() is None and called == []
    child.close()
