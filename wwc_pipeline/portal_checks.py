"""A portal's portal-level checks; the ones that wait on the portal run in threads of their own.

`content.quality` (sampled rows) and `links.reachable` (probed links) spend most of their time
waiting for answers (the HTTP client holds every host to its `per_host` limit): each runs in a
thread of its own, beside the other and beside the rest of the checks, which run in the calling
thread meanwhile. A check says whether it will wait this run (`registry.portal_check`'s
`waits_on_portal`); when none does (a catalog-only run) no thread is made: handing work between
threads costs GIL round trips for nothing. Results come back in the checks' sorted order
whatever finishes first. For a fresh harvest the waiting checks start before the dataset metrics
(`PortalChecks`), so the metrics' CPU overlaps their waits. With `in_child` (a one-portal run's
`forked_helpers`), the checks that never wait run in a forked child on the other core meanwhile
(forked_items.py); any result it does not give back is made here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from wwc_pipeline import progress, registry
from wwc_pipeline.forked_items import ForkedItems
from wwc_pipeline.model import DatasetRecord
from wwc_pipeline.results import CheckResult, PortalContext, Status

log = logging.getLogger("wwc_pipeline")


def run_portal_checks(
    records: list[DatasetRecord], context: PortalContext, kept: dict[str, list[CheckResult]] | None = None
) -> list[CheckResult]:
    """Every registered portal-level check; a check that breaks reports n/a, never stops the run.
    `kept`: check id -> its portal-level results kept from before (portal_reuse): not run."""
    with PortalChecks(records, context, kept) as checks:
        return checks.results()


class PortalChecks:
    """A portal's checks, the waiting ones started at once: made before the dataset metrics of a
    fresh harvest, they wait on the portal while the metrics are computed
    (`portal_evaluation.evaluate_portal`). `results()` runs the others in the calling thread and
    hands every result back in order."""

    def __init__(
        self,
        records: list[DatasetRecord],
        context: PortalContext,
        kept: dict[str, list[CheckResult]] | None = None,
        in_child: bool = False,
    ) -> None:
        registry.load_plugins()
        self._records, self._context, self._kept = records, context, kept or {}
        self._chosen = sorted(registry.PORTAL_CHECKS.items())
        self._to_run = [(check_id, check) for check_id, check in self._chosen if check_id not in self._kept]
        aside = [check_id for check_id, check in self._to_run if _waits(check, context)]
        # an executor only when there is something to overlap; every other check runs in results()
        pool = ThreadPoolExecutor(len(aside), thread_name_prefix="wwc-portal-check") if aside else None
        self._pool = pool
        self._done: dict[str, Any] = {
            check_id: pool.submit(_run_one, check_id, check, records, context)
            for check_id, check in self._to_run
            if pool is not None and check_id in aside
        }
        # `in_child`: the checks that never wait (no `waits_on_portal`: no network) run meanwhile
        # in a forked child, on the other core; results() runs here any it did not give back
        offline = [(check_id, check) for check_id, check in self._to_run if _never_waits(check)]
        big = len(records) >= CHILD_FROM_RECORDS
        self._child = _in_child(offline, records, context) if in_child and offline and big else None
        self._from_child = [check_id for check_id, _ in offline] if self._child is not None else []

    def results(self) -> list[CheckResult]:
        for check_id, check in self._to_run:
            if check_id in self._from_child:
                self._done[check_id] = self._child_results(check_id)
            if self._done.get(check_id) is None:
                self._done[check_id] = _run_one(check_id, check, self._records, self._context)
        return _in_order(self._chosen, self._kept, self._done)

    def _child_results(self, check_id: str) -> list[CheckResult] | None:
        """The child's results of this check (they come in `_from_child`'s order), or None."""
        given = self._child.next() if self._child is not None else None
        if given is None or given[0] != check_id:
            self._close_child()
            return None
        if given[1] is not None:
            label = self._context.portal_config.url if self._context.portal_config else self._context.portal
            progress.report("check", portal=label, check=check_id)
        return given[1]

    def _close_child(self) -> None:
        if self._child is not None:
            self._child.close()
            self._child = None

    def close(self) -> None:
        """Wait for the waiting checks (a check's requests end with their deadlines); stop the child."""
        self._close_child()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> PortalChecks:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _in_order(
    chosen: list[tuple[str, Any]], kept: dict[str, list[CheckResult]], done: dict[str, Any]
) -> list[CheckResult]:
    """Every check's results (kept, run here, or a thread's future) in the checks' sorted order."""
    results: list[CheckResult] = []
    for check_id, _ in chosen:
        found = kept[check_id] if check_id in kept else done[check_id]
        results.extend(found.result() if isinstance(found, Future) else found)
    return results


def any_waits(context: PortalContext) -> bool:
    """Whether some registered portal check waits on the portal this run (a thread of its own)."""
    registry.load_plugins()
    return any(_waits(check, context) for check in registry.PORTAL_CHECKS.values())


def _waits(check: Callable[..., Any], context: PortalContext) -> bool:
    waits = getattr(check, "waits_on_portal", None)
    try:
        return bool(waits and waits(context))
    except Exception:  # noqa: BLE001 - a check that cannot say runs in the calling thread
        return False


CHILD_FROM_RECORDS = 2_000  # fewer: their checks take about as long as the fork (0.07 s a 1,000)


def _in_child(
    checks: list[tuple[str, Any]], records: list[DatasetRecord], context: PortalContext
) -> ForkedItems:
    """(check id, its results) of each check, run in a forked child; (check id, None) for a check
    that raised there (the parent runs it again, to log and report it as `_run_one` does)."""

    def produce() -> Iterator[tuple[str, list[CheckResult] | None]]:
        for check_id, check in checks:
            try:
                yield check_id, list(check(records, context))
            except Exception:  # noqa: BLE001 - the parent runs it again
                yield check_id, None

    return ForkedItems(produce)


def _run_one(
    check_id: str, check: Callable[..., Any], records: list[DatasetRecord], context: PortalContext
) -> list[CheckResult]:
    label = context.portal_config.url if context.portal_config else context.portal
    progress.report("check", portal=label, check=check_id)
    try:
        return list(check(records, context))
    except Exception as error:  # noqa: BLE001 - reported as evidence, not raised
        log.warning("check %s failed on %s: %s", check_id, context.portal, error)
        return [CheckResult(check_id, Status.NA, {"score": None}, f"Check could not run: {error}")]


def _never_waits(check: Callable[..., Any]) -> bool:
    """Registered without `waits_on_portal` (registry.portal_check): it uses no network."""
    return getattr(check, "waits_on_portal", False) is None
