"""Portal-level checks that wait on the portal run in threads of their own, the others in the
calling thread meanwhile; results come back in the checks' sorted order, kept results in place,
a broken check n/a."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from wwc_pipeline import registry
from wwc_pipeline.portal_checks import run_portal_checks
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


def waiting(check):
    """`check` as one that says it waits on the portal this run."""
    check.waits_on_portal = lambda context: True
    return check


def test_two_waiting_checks_run_side_by_side(only_these):
    both_started = threading.Barrier(2, timeout=5)  # broken if they ran one after another

    def waits_on_the_portal(check_id):
        def check(records, context):
            both_started.wait()
            return [result(check_id)]

        return waiting(check)

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


def test_checks_that_do_not_wait_run_in_the_calling_thread(only_these):
    """A catalog-only run (no rows sampled, no links probed): nothing is handed to another thread;
    a check that waits runs in a thread of its own, even alone."""
    threads: dict[str, str] = {}

    def noted(check_id, waits):
        def check(records, context):
            threads[check_id] = threading.current_thread().name
            return [result(check_id)]

        check.waits_on_portal = lambda context: waits
        return check

    here = threading.current_thread().name
    only_these({"a.rows": noted("a.rows", False), "c.plain": noted("c.plain", False)})
    run_portal_checks([], CONTEXT)
    assert threads == {"a.rows": here, "c.plain": here}
    only_these(
        {
            "a.rows": noted("a.rows", False),
            "b.links": noted("b.links", True),
            "c.plain": noted("c.plain", False),
        }
    )
    run_portal_checks([], CONTEXT)
    assert threads["a.rows"] == threads["c.plain"] == here
    assert threads["b.links"].startswith("wwc-portal-check")


def test_the_other_checks_run_while_a_waiting_one_waits(only_these):
    met = threading.Barrier(2, timeout=5)  # broken if the waiting check ran before or after them

    def waits(records, context):
        met.wait()
        return [result("a.rows")]

    def plain(records, context):
        met.wait()
        return [result("b.plain")]

    only_these({"a.rows": waiting(waits), "b.plain": plain})
    results = run_portal_checks([], CONTEXT)
    assert [(r.check_id, r.status) for r in results] == [("a.rows", Status.PASS), ("b.plain", Status.PASS)]


def test_the_network_checks_say_when_they_wait():
    """content.quality waits when it samples rows from a live portal, links.reachable when it
    probes links: with `sample_datasets: 0` and `check_links: 0` (catalog-only) neither does."""
    from wwc_pipeline.config import PortalConfig

    registry.load_plugins()
    rows, links = registry.PORTAL_CHECKS["content.quality"], registry.PORTAL_CHECKS["links.reachable"]
    live = {"client": object(), "connector": object()}
    on = PortalConfig(platform="socrata", url="http://127.0.0.1:9")
    off = PortalConfig(platform="socrata", url="http://127.0.0.1:9", sample_datasets=0, check_links=0)
    as_of = CONTEXT.as_of
    assert rows.waits_on_portal(PortalContext("socrata", "127.0.0.1", as_of, portal_config=on, **live))
    assert links.waits_on_portal(PortalContext("socrata", "127.0.0.1", as_of, portal_config=on, **live))
    assert not rows.waits_on_portal(PortalContext("socrata", "127.0.0.1", as_of, portal_config=off, **live))
    assert not links.waits_on_portal(PortalContext("socrata", "127.0.0.1", as_of, portal_config=off, **live))
    assert not rows.waits_on_portal(PortalContext("socrata", "127.0.0.1", as_of, portal_config=on))  # offline


def test_a_fresh_harvests_waiting_checks_start_before_its_dataset_metrics(only_these):
    from wwc_pipeline import pipeline
    from wwc_pipeline.evaluate import evaluate_records

    started = threading.Event()

    def rows(records, context):
        started.set()
        return [result("a.rows")]

    def metrics(records, as_of, platform, portal):
        # one after the other, the check would start only once this returned: the wait times out
        assert started.wait(5), "the waiting check had not started while the metrics ran"
        return evaluate_records(records, as_of, platform, portal)

    only_these({"a.rows": waiting(rows), "b.here": lambda records, context: [result("b.here")]})
    outcome = pipeline.evaluate_portal([], CONTEXT, "http://127.0.0.1", metrics=metrics)
    assert [r.check_id for r in outcome.check_results if r.check_id != "harvest.catalog"] == [
        "a.rows",
        "b.here",
    ]
