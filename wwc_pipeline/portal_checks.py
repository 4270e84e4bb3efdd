"""A portal's portal-level checks; the ones that wait on the portal run in threads of their own.

`content.quality` (sampled rows) and `links.reachable` (probed links) spend most of their time
waiting for answers (the HTTP client holds every host to its `per_host` limit): each runs in a
thread of its own, beside the other and beside the rest of the checks, which run in the calling
thread meanwhile. A check says whether it will wait this run (`registry.portal_check`'s
`waits_on_portal`); when none does (a catalog-only run) no thread is made: handing work between
threads costs GIL round trips for nothing. Results come back in the checks' sorted order
whatever finishes first.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import nullcontext
from typing import Any

from wwc_pipeline import progress, registry
from wwc_pipeline.model import DatasetRecord
from wwc_pipeline.results import CheckResult, PortalContext, Status

log = logging.getLogger("wwc_pipeline")


def run_portal_checks(
    records: list[DatasetRecord], context: PortalContext, kept: dict[str, list[CheckResult]] | None = None
) -> list[CheckResult]:
    """Every registered portal-level check; a check that breaks reports n/a, never stops the run.
    `kept`: check id -> its portal-level results kept from before (portal_reuse): not run."""
    registry.load_plugins()
    kept = kept or {}
    chosen = sorted(registry.PORTAL_CHECKS.items())
    to_run = [(check_id, check) for check_id, check in chosen if check_id not in kept]
    aside = [check_id for check_id, check in to_run if _waits(check, context)]
    done: dict[str, Any] = {}
    # an executor only when there is something to overlap; every other check runs here
    with (
        ThreadPoolExecutor(len(aside), thread_name_prefix="wwc-portal-check")
        if aside
        else nullcontext() as pool
    ):
        for check_id, check in to_run:
            if check_id in aside:
                done[check_id] = pool.submit(_run_one, check_id, check, records, context)
        for check_id, check in to_run:
            if check_id not in aside:
                done[check_id] = _run_one(check_id, check, records, context)
        return _in_order(chosen, kept, done)


def _in_order(
    chosen: list[tuple[str, Any]], kept: dict[str, list[CheckResult]], done: dict[str, Any]
) -> list[CheckResult]:
    """Every check's results (kept, run here, or a thread's future) in the checks' sorted order."""
    results: list[CheckResult] = []
    for check_id, _ in chosen:
        found = kept[check_id] if check_id in kept else done[check_id]
        results.extend(found.result() if isinstance(found, Future) else found)
    return results


def _waits(check: Callable[..., Any], context: PortalContext) -> bool:
    waits = getattr(check, "waits_on_portal", None)
    try:
        return bool(waits and waits(context))
    except Exception:  # noqa: BLE001 - a check that cannot say runs in the calling thread
        return False


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
