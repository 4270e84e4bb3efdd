"""The HTML drill-down of row-level quality: per sampled dataset, the failed expectations and examples."""

from __future__ import annotations

import re

from wwc_pipeline.reports import render_html

PORTAL = "https://data.example.gov"


def outcome(kind, column, success, observed, allowed, examples=()):
    return {
        "kind": kind,
        "expectation": "expect_column_values_to_be_between",
        "column": column,
        "success": success,
        "observed": observed,
        "allowed": allowed,
        "unexpected": len(examples),
        "examples": list(examples),
    }


def dataset(dataset_id, title, status, outcomes):
    failed = [o for o in outcomes if o["success"] is False]
    value = {
        "rows": 200,
        "expectations": len(outcomes),
        "passed": len(outcomes) - len(failed),
        "defects": sorted({o["kind"] for o in failed}),
        "outcomes": outcomes,
    }
    return {
        "portal": PORTAL,
        "dataset_id": dataset_id,
        "title": title,
        "checks": {"content.quality": status, "has_license": "pass"},
        "reasons": {},
        "values": {"content.quality": value, "has_license": None},
    }


def criterion(cid, check_ids):
    return {
        "criterion_id": cid,
        "component": "Take Stock",
        "current": ["DM4"],
        "title": f"title of {cid}",
        "score": 50.0,
        "status": "partially met",
        "evidence": "",
        "counts": {},
        "worst_datasets": [],
        "portal_breakdown": {},
        "check_ids": check_ids,
    }


def report() -> dict:
    dirty = [
        outcome("nulls", "Notes", True, 0.0, 0.5),
        outcome("negative_amounts", "Amount", False, 0.091, 0.0, ["-12.5", "<script>-1</script>"]),
        outcome("case_variants", "Status", False, 0.165, 0.0, ["'OPEN' vs 'Open'"]),
    ]
    return {
        "city": {"id": "springfield", "name": "Springfield"},
        "run": {"id": 7, "status": "succeeded"},
        "portals": [],
        "criteria": [
            criterion("TAKESTOCK-QUALITY", ["content.quality", "content.schema_drift"]),
            criterion("MEASURE-OD-LICENSE", ["has_license"]),
        ],
        "datasets": [
            dataset("clean-1", "Clean Permits", "pass", [outcome("nulls", "Notes", True, 0.0, 0.5)]),
            dataset("dirty-1", "Dirty Payments", "fail", dirty),
        ],
        "portal_checks": [],
    }


def section(html: str, cid: str) -> str:
    match = re.search(rf'<details class="criterion" id="crit-{cid}">(.*?)</details>', html, re.S)
    assert match, cid
    return match.group(1)


def test_quality_criterion_lists_failed_expectations_with_examples():
    quality = section(render_html(report()), "TAKESTOCK-QUALITY")
    assert "2 datasets validated" in quality
    dirty = quality[quality.index("Dirty Payments") :]
    assert "negative_amounts</span> Amount: 9.1% (allowed 0.0%)" in dirty
    assert "<code>-12.5</code>" in dirty and "&lt;script&gt;-1&lt;/script&gt;" in dirty  # escaped
    assert "case_variants</span> Status: 16.5%" in dirty and "&#39;OPEN&#39; vs &#39;Open&#39;" in dirty
    assert "Notes: 0.0%" not in dirty  # passed expectations are counted, not listed
    assert "1 of 3" in dirty
    assert quality.index("Dirty Payments") < quality.index("Clean Permits")  # most failures first


def test_other_criteria_show_no_quality_table():
    html = render_html(report())
    assert "Sampled rows" not in section(html, "MEASURE-OD-LICENSE")
