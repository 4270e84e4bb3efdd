"""Writes queued behind one writer share a transaction; each caller hears of its own item only."""

from __future__ import annotations

import threading
import time

import pytest

from wwc_pipeline.group_commit import GroupCommit


class Ledger:
    """Stands in for the warehouse: records each batch; refuses a batch holding a 'bad' item."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []

    def write_many(self, items: list[str]) -> None:
        if "bad" in items:
            raise ValueError(f"refused {items}")
        self.batches.append(list(items))


def test_writes_queued_behind_the_writer_are_one_batch():
    ledger, writer = Ledger(), threading.Lock()
    commits = GroupCommit(ledger.write_many)
    writer.acquire()  # another write holds the writer: these four queue behind it
    threads = [threading.Thread(target=commits.write, args=(name, writer)) for name in "abcd"]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 10
    while len(commits._pending) < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    writer.release()
    for thread in threads:
        thread.join(10)
    assert len(ledger.batches) == 1
    assert sorted(ledger.batches[0]) == ["a", "b", "c", "d"]


def test_a_bad_item_fails_alone_and_its_batch_mates_are_written():
    ledger, writer = Ledger(), threading.Lock()
    commits = GroupCommit(ledger.write_many)
    errors: dict[str, Exception] = {}

    def write(name: str) -> None:
        try:
            commits.write(name, writer)
        except ValueError as error:
            errors[name] = error

    writer.acquire()
    threads = [threading.Thread(target=write, args=(name,)) for name in ("a", "bad", "c")]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 10
    while len(commits._pending) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    writer.release()
    for thread in threads:
        thread.join(10)
    assert sorted(errors) == ["bad"]
    assert sorted(item for batch in ledger.batches for item in batch) == ["a", "c"]


def test_one_write_alone_raises_its_own_error():
    commits = GroupCommit(Ledger().write_many)
    with pytest.raises(ValueError, match="refused"):
        commits.write("bad", threading.Lock())
