"""A fresh harvest's outcome whose portal checks still wait on the portal.

A big portal's write (its datasets, versions and one result a check a dataset: 290,205 rows for
10,000 datasets) took as long as its evaluation, and most of the evaluation is the portal checks'
round trips (sampled rows, probed links), with the CPU idle. Written meanwhile, the dataset
metrics' results cost the scan nothing of their own. `portal_evaluation.evaluate_portal_pending`
makes one; `portal_steps.write` writes `first_results`, then `finish()` waits for the checks and
gives the whole `PortalOutcome`, whose remaining results go into the same transaction.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


class PendingOutcome:
    """The dataset metrics' results now (`first_results`); the rest of the outcome at `finish()`."""

    def __init__(
        self, first_results: list[Any], finish: Callable[[], Any], close: Callable[[], None]
    ) -> None:
        self.first_results = first_results
        self.renames: list[tuple[int, Any]] = []  # history.observe's, put on the outcome at finish()
        self._finish, self._close = finish, close
        self._lock = threading.Lock()
        self._outcome: Any = None

    def finish(self) -> Any:
        """The whole `PortalOutcome`, once the portal checks are done (made once)."""
        with self._lock:
            if self._outcome is None:
                outcome = self._finish()
                outcome.renames = self.renames
                self._outcome = outcome
            return self._outcome

    def later_results(self) -> tuple[list[Any], dict[str, Any] | None]:
        """The results `first_results` did not hold (the portal checks'), and the replay notes."""
        outcome = self.finish()
        return outcome.check_results[len(self.first_results) :], outcome.replay_notes

    def close(self) -> None:
        """Let the portal checks' threads end (a write that failed before `finish()`)."""
        self._close()
