"""Portal-level checks run two at a time (the ones that wait on a portal overlap), and their
results still come back in the checks' sorted order, kept results in place, a broken check n/a."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from wwc_pipeline import registry
from wwc_pipeline.portal_checks import CHECKS_AT_ONCE, run_portal_checks
from wwc_pipeline.results import CheckResult, PortalContext, Status

CONTEXT = PortalContext("socrata", "127.0.0.1", datetime(2025, 6, 1, tzinfo=UTC))


@pytest.fixture
def only_these(monkeypatch):
    """Replace the registered portal checks by the given ones for one test."""
    registry.load_plugins()

    def install(checks: dict) -> None:
        monkeypatch.setattr(registry, "PORTAL_CHECKS", dict(checks))

    return install


def result(check_id: str, reason: str = "ran") -> CheckResult:
    return CheckResult(check_id, Status.PASS, {"score": 100.0}, reason)


def test_two_waiting_checks_run_side_by_side(only_these):
    both_started = threading.Barrier(CHECKS_AT_ONCE, timeout=5)  # broken if they ran one after another

    def waits_on_the_portal(check_id):
        def check(records, context):
            both_started.wait()
            return [result(check_id)]

        return check

    only_these({"a.rows": waits_on_the_portal("a.rows"), "b.links": waits_on_the_portal("b.links")})
    results = run_portal_checks([], CONTEXT)  # one after another, the barrier breaks: both n/a
    assert [(r.check_id, r.status) for r in results] == [("a.rows", Status.PASS), ("b.links", Status.PASS)]


def test_results_keep_the_sorted_order_whatever_finishes_first(only_these):
    slow_done = threading.Event()

    def slow(records, context):
        slow_done.wait(0.3)
        slow_done.set()
        return [result("a.slow")]

    def fast(records, context):
        return [result("b.fast"), result("b.fast", "second")]

    only_these({"b.fast": fast, "a.slow": slow, "c.later": lambda records, context: [result("c.later")]})
    assert [(r.check_id, r.reason) for r in run_portal_checks([], CONTEXT)] == [
        ("a.slow", "ran"),
        ("b.fast", "ran"),
        ("b.fast", "second"),
        ("c.later", "ran"),
    ]


def test_kept_results_are_not_run_again_and_a_broken_check_is_na(only_these):
    ran = []

    def counted(check_id):
        def check(records, context):
            ran.append(check_id)
            return [result(check_id)]

        return check

    def broken(records, context):
        raise ValueError("no answer")

    only_these({"a.kept": counted("a.kept"), "b.broken": broken, "c.runs": counted("c.runs")})
    kept = {"a.kept": [result("a.kept", "kept from before")]}
    results = run_portal_checks([], CONTEXT, kept)
    assert ran == ["c.runs"]
    assert [(r.check_id, r.status, r.reason) for r in results] == [
        ("a.kept", Status.PASS, "kept from before"),
        ("b.broken", Status.NA, "Check could not run: no answer"),
        ("c.runs", Status.PASS, "ran"),
    ]
