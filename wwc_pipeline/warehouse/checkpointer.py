"""SQLite's WAL checkpoints in a thread of their own, after the write that made them due.

By default SQLite copies the write-ahead log back into the database file (a checkpoint) at the
commit that takes the log past 1,000 pages, in the committing connection: the write of a
10,000-dataset portal (a 70 MB log) waited 0.1 s at its commit for it, and every write of a
nightly waits so in turn (benchmarks/README.md, stop 42). Here the engine's own connections never
checkpoint (`wal_autocheckpoint=0`); a write transaction that ends wakes a thread that checkpoints
on a connection of its own: PASSIVE, so it waits for no reader and no writer, and SQLite does
the copying without holding the GIL. Writes that end within a second of a checkpoint wait for
the next one (`CHECKPOINT_GAP_S`). If the thread is not there (stopped, or the process ends),
SQLite checkpoints when the last connection closes, and a database opened after a crash
replays its log: nothing is lost either way, the log only grows longer meanwhile.
"""

from __future__ import annotations

import logging
import sqlite3
import threading

log = logging.getLogger("wwc_pipeline")

# At most one checkpoint a second. Each one syncs the log and the database file; a nightly's
# re-run ends some 850 small writes, and SQLite's own autocheckpoint waited for 1,000 pages.
CHECKPOINT_GAP_S = 1.0


class Checkpointer:
    """`nudge()` after a write; `stop()` when the engine is disposed (it does not wait out a gap)."""

    def __init__(self, database: str) -> None:
        self.database = database
        self.checkpoints = 0  # checkpoints run (tests and benchmarks read it)
        self._wake = threading.Event()
        self._stop = threading.Event()  # set once, by stop(); also ends the wait between checkpoints
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def nudge(self) -> None:
        """A write has ended: checkpoint soon (the thread starts with the first write)."""
        with self._lock:
            if self._stop.is_set():
                return
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="wwc-wal-checkpoint", daemon=True)
                self._thread.start()
        self._wake.set()

    def stop(self) -> None:
        """Let the thread end after the checkpoint under way, if any."""
        with self._lock:
            self._stop.set()
            thread = self._thread
        self._wake.set()
        if thread is not None:
            thread.join(timeout=30)

    def _run(self) -> None:
        try:
            connection = sqlite3.connect(self.database, timeout=30, check_same_thread=False)
        except sqlite3.Error as error:  # the engine's connections checkpoint at their close instead
            log.warning("no WAL checkpoint thread for %s: %s", self.database, error)
            return
        try:
            while True:
                self._wake.wait()
                self._wake.clear()
                if self._stop.is_set():
                    return
                try:
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    self.checkpoints += 1
                except sqlite3.Error as error:  # busy or gone: the next write nudges again
                    log.debug("WAL checkpoint of %s skipped: %s", self.database, error)
                self._stop.wait(CHECKPOINT_GAP_S)
        finally:
            connection.close()
