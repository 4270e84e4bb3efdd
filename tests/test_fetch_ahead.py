"""Fetches a check waits on go `width` at a time, come back in order, and with `wanted` start only
while they could still be used: the same fetches as one at a time."""

from __future__ import annotations

import threading

from wwc_pipeline.fetch_ahead import fetched_ahead, width_for
from wwc_pipeline.http import HttpClient


def one_at_a_time(items, fetch, wanted, useful):
    """What a check did before: fetch the next item until `wanted` useful answers."""
    fetched, used = [], 0
    for item in items:
        if used >= wanted:
            break
        answer = fetch(item)
        fetched.append(item)
        used += useful(answer)
    return fetched


def test_answers_come_back_in_order_with_width_fetches_at_once():
    under_way, most, lock = 0, 0, threading.Lock()
    two_at_once = threading.Barrier(2, timeout=5)  # broken if fetches ran one after another

    def fetch(item):
        nonlocal under_way, most
        with lock:
            under_way += 1
            most = max(most, under_way)
        if item < 2:
            two_at_once.wait()
        with lock:
            under_way -= 1
        return item * 10

    assert list(fetched_ahead(range(9), fetch, width=2)) == [(i, i * 10) for i in range(9)]
    assert most == 2


GIVES_NOTHING = {1, 2, 5, 8, 9}  # e.g. datasets whose rows cannot be sampled


def read_until(width: int, wanted: int) -> tuple[list[int], list[int]]:
    """(items read, items fetched) of a reader that stops at `wanted` useful answers."""
    asked: list[int] = []
    lock = threading.Lock()

    def fetch(item):
        with lock:
            asked.append(item)
        return None if item in GIVES_NOTHING else item

    used, read = 0, []
    useful = lambda answer: answer is not None  # noqa: E731
    for item, answer in fetched_ahead(range(12), fetch, width, wanted=wanted, useful=useful):
        read.append(item)
        used += answer is not None
        if used >= wanted:
            break
    return read, sorted(asked)


def test_with_wanted_the_same_fetches_as_one_at_a_time():
    for width in (1, 2, 3, 5):
        for wanted in (1, 3, 4, 6):
            expected = one_at_a_time(
                range(12), lambda i: None if i in GIVES_NOTHING else i, wanted, lambda a: a is not None
            )
            read, asked = read_until(width, wanted)
            assert read == expected, (width, wanted)
            assert asked == expected, (width, wanted)  # nothing fetched for nothing


def test_the_answers_end_after_the_wanted_useful_one():
    """A reader that reads to the end gets the fetches one at a time would make, whatever the width."""
    useful = lambda answer: answer is not None  # noqa: E731
    for width in (1, 2, 3):
        for wanted in (1, 3, 6, 20):
            asked: list[int] = []
            lock = threading.Lock()

            def fetch(item, asked=asked, lock=lock):
                with lock:
                    asked.append(item)
                return None if item in GIVES_NOTHING else item

            read = [item for item, _ in fetched_ahead(range(12), fetch, width, wanted=wanted, useful=useful)]
            expected = one_at_a_time(range(12), lambda i: None if i in GIVES_NOTHING else i, wanted, useful)
            assert read == expected and sorted(asked) == expected, (width, wanted)


def test_a_reader_that_stops_early_starts_nothing_more():
    asked = []
    fetches = fetched_ahead(range(100), lambda item: asked.append(item) or item, width=2)
    assert next(fetches) == (0, 0)
    fetches.close()
    assert len(asked) <= 2  # the one read and the one under way beside it


def test_width_is_the_clients_per_host_limit():
    with HttpClient(per_host=3) as client:
        assert width_for(client) == 3
        assert width_for(client.within(10, "a deadline")) == 3  # views share the limiter
    assert width_for(object()) == 1  # a stand-in client without a limiter: one at a time
