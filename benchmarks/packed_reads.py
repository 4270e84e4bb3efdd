"""Rows read one at a time vs packed (warehouse/packed_reads.py), alone and beside a busy thread.

Python's sqlite3 lets go of the GIL at every row and takes it back for the next; beside a thread
busy in Python (the nightly runs 16 portal tasks in threads) taking it back waits for the
switch interval. Prints one JSON line: the seconds of each read, and the ratios. Entries
join versions of about 1.5 kB in shuffled order, as a replay reads a catalog's records.

    python -m benchmarks.packed_reads [--rows 20000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Column, Integer, MetaData, Table, create_engine, select

from benchmarks.common import interleaved, machine
from wwc_pipeline.warehouse import packed_reads

# about 1.5 kB of JSON, as a stored record is (warehouse: 1,553 bytes on average at full size)
RECORD = {
    "title": "Street trees",
    "description": "Every street tree the city maintains, with species and condition. " * 4,
    "columns": [{"name": f"column_{i}", "datatype": "text", "description": "a column"} for i in range(20)],
}


class Busy:
    """A thread that keeps the interpreter busy until stopped (a portal task evaluating)."""

    def __enter__(self) -> Busy:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._spin, daemon=True)
        self._thread.start()
        return self

    def _spin(self) -> None:
        total = 0
        while not self._stop.is_set():
            for number in range(1000):
                total += number

    def __exit__(self, *_: Any) -> None:
        self._stop.set()
        self._thread.join()


def run(rows: int, repeat: int) -> dict[str, Any]:
    """Both reads of `rows` entries, `repeat` times each, alone and beside a busy thread."""
    with tempfile.TemporaryDirectory(prefix="wwc-packed-") as folder:
        engine = create_engine(f"sqlite:///{Path(folder) / 'packed.db'}")
        metadata = MetaData()
        table = Table(
            "entries", metadata, Column("position", Integer, primary_key=True), Column("version", Integer)
        )
        versions = Table(
            "versions", metadata, Column("id", Integer, primary_key=True), Column("record", JSON)
        )
        metadata.create_all(engine)
        order = list(range(rows))
        random.Random(1).shuffle(order)  # entries point at versions all over the file, as in the warehouse
        with engine.begin() as connection:
            connection.execute(versions.insert(), [{"id": v, "record": RECORD} for v in range(rows)])
            connection.execute(table.insert(), [{"position": p, "version": v} for p, v in enumerate(order)])
        query = select(table.c.position, versions.c.record).join(versions, versions.c.id == table.c.version)
        with engine.connect() as connection:

            def one_at_a_time() -> set[int]:
                return {position for position, record in connection.execute(query) if record == RECORD}

            def packed() -> set[int]:
                found = packed_reads.by_positions(connection, query, table.c.position, rows)
                return {position for position, record in found if record == RECORD}

            runs = {"one_at_a_time": one_at_a_time, "packed": packed}
            alone = interleaved(repeat, runs, keep=len)
            with Busy():
                beside = interleaved(repeat, runs, keep=len)
        engine.dispose()
    seconds = {
        "alone": {name: round(timed.median, 3) for name, timed in alone.items()},
        "beside_a_busy_thread": {name: round(timed.median, 3) for name, timed in beside.items()},
    }
    return {
        "benchmark": "packed_reads",
        "rows": rows,
        "rows_read": {
            name: timed.result for name, timed in beside.items()
        },  # whole records, each position once
        "median_s": seconds,
        "one_at_a_time_over_packed": {
            where: round(times["one_at_a_time"] / times["packed"], 2) for where, times in seconds.items()
        },
        "busy_over_alone": {
            name: round(seconds["beside_a_busy_thread"][name] / seconds["alone"][name], 2) for name in runs
        },
        "machine": machine(),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    if args.rows < 1 or args.repeat < 1:
        parser.error("--rows and --repeat must be at least 1")
    print(json.dumps(run(args.rows, args.repeat)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
