"""A one-portal scan's forked helpers (`concurrency.forked_helpers`): the check results' rows
made in a child while the write inserts them, and the portal checks that never wait run in a
child meanwhile. What is stored is exactly what the same scan stores without them; a helper that
fails leaves its work to the parent, with the same outcome; the flow uses them for one portal."""

from __future__ import annotations

import os

import pytest

from tests.test_pending_outcome import AS_OF, one_portal_city, portal, scan, stored  # noqa: F401 - fixture
from wwc_pipeline import forked_items, portal_checks, portal_steps
from wwc_pipeline.config import load_criteria
from wwc_pipeline.warehouse import result_writes

pytestmark = pytest.mark.skipif(not forked_items.can_fork(), reason="fork() is used on Linux only")
NEVER_WAIT = ["history.catalog_activity", "portal.policy_document", "key_datasets.types"]  # some of them


def scanned(tmp_path, portal, name: str, helpers: bool):  # noqa: F811 - the fixture's value
    """The portal scanned and written with or without the helpers: stored rows, scores, evidence."""
    url = f"sqlite:///{tmp_path / f'{name}.db'}"
    warehouse, job, snapshot, outcome = scan(url, portal, pending=True, checks_in_child=helpers)
    done = portal_steps.write(job, snapshot, outcome, warehouse, rows_in_child=helpers)
    result = portal_steps.close_city("solo", job.run_id, [done], load_criteria(), warehouse)
    assert result.status == "succeeded"
    return stored(url), result.scores, done.evidence


def in_parent(calls: list, function):
    """`function`, noting in `calls` each call made in this process (not in a forked child)."""
    parent = os.getpid()

    def noted(*args, **kwargs):
        if os.getpid() == parent:
            calls.append(args)
        return function(*args, **kwargs)

    return noted


def test_the_helpers_store_what_the_parent_alone_stores_and_take_its_work(
    portal,  # noqa: F811
    tmp_path,
    monkeypatch,
):
    monkeypatch.setattr(result_writes, "CHILD_FROM_RESULTS", 1)  # 120 datasets: children all the same
    monkeypatch.setattr(portal_checks, "CHILD_FROM_RECORDS", 1)
    alone = scanned(tmp_path, portal, "alone", helpers=False)
    rows_made, checks_run = [], []
    monkeypatch.setattr(result_writes, "result_rows", in_parent(rows_made, result_writes.result_rows))
    monkeypatch.setattr(portal_checks, "_run_one", in_parent(checks_run, portal_checks._run_one))
    helped = scanned(tmp_path, portal, "helped", helpers=True)
    assert helped == alone
    assert {"content.quality", "links.reachable"} <= {row[1] for row in helped[0]["results"]}
    assert rows_made == []  # every check's rows came from the child
    assert {args[0] for args in checks_run} == {"content.quality", "links.reachable"}  # those that wait


def test_helpers_that_fail_leave_their_work_to_the_parent_with_the_same_outcome(
    portal,  # noqa: F811
    tmp_path,
    monkeypatch,
):
    monkeypatch.setattr(result_writes, "CHILD_FROM_RESULTS", 1)
    monkeypatch.setattr(portal_checks, "CHILD_FROM_RECORDS", 1)
    alone = scanned(tmp_path, portal, "alone", helpers=False)
    parent = os.getpid()
    original_rows = result_writes.result_rows
    made_in_parent = []

    def rows_failing_in_the_child(run_id, portal_id, results, entries):
        if os.getpid() != parent and results[0].check_id == "machine_readable":  # some done before it
            raise RuntimeError("the child broke")
        if os.getpid() == parent:
            made_in_parent.append(results[0].check_id)
        return original_rows(run_id, portal_id, results, entries)

    monkeypatch.setattr(result_writes, "result_rows", rows_failing_in_the_child)
    portal_checks.registry.load_plugins()
    for check_id in NEVER_WAIT:  # a check that breaks in the child is run again by the parent
        check = portal_checks.registry.PORTAL_CHECKS[check_id]
        monkeypatch.setitem(portal_checks.registry.PORTAL_CHECKS, check_id, failing_in_child(check, parent))
    helped = scanned(tmp_path, portal, "helped", helpers=True)
    assert helped == alone
    # the child's rows up to the check it broke on, the parent's from there on
    assert made_in_parent[0] == "machine_readable" and "has_description" not in made_in_parent


def failing_in_child(check, parent: int):
    def broken(records, context):
        if os.getpid() != parent:
            raise RuntimeError("the child broke")
        return check(records, context)

    broken.check_id, broken.waits_on_portal = check.check_id, check.waits_on_portal
    return broken


@pytest.mark.parametrize("setting", [None, False])
def test_a_scan_of_a_one_portal_city_forks_its_helpers(
    prefect_harness,
    portal,  # noqa: F811
    tmp_path,
    monkeypatch,
    setting,
):
    from wwc_pipeline.flows.nightly import scan_cities

    monkeypatch.setattr(result_writes, "CHILD_FROM_RESULTS", 1)
    monkeypatch.setattr(portal_checks, "CHILD_FROM_RECORDS", 1)
    helpers = {} if setting is None else {"forked_helpers": setting}
    cities = one_portal_city(tmp_path, portal, helpers, monkeypatch)
    forks = []
    original = forked_items.ForkedItems.__init__

    def noted(self, produce, *args, **kwargs):
        forks.append(produce.__qualname__)
        original(self, produce, *args, **kwargs)

    monkeypatch.setattr(forked_items.ForkedItems, "__init__", noted)
    summary = scan_cities(str(cities), ["solo"], "rescan", "cli", AS_OF)["solo"]
    assert summary["status"] == "succeeded"
    # the portal checks' child at the evaluation, then one for each of the write's two parts
    rows = "_rows_ahead.<locals>.<lambda>"
    expected = ["_in_child.<locals>.produce", rows, rows]
    assert forks == (expected if setting is None else [])
