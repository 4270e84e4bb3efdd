"""The dataset sample of content.quality: seeded by the portal, stratified, bounded; rows under a byte cap."""

from __future__ import annotations

import json
from collections import Counter

from wwc_pipeline.checks.sampling import candidates, portal_seed, sample_order, stratum, within_bytes

from wwc_pipeline.model import DatasetRecord


def record(dataset_id: str, category: str | None = None, publisher: str | None = None, **kwargs):
    return DatasetRecord(
        "socrata",
        "data.example.gov",
        dataset_id,
        categories=[category] if category else [],
        publisher=publisher,
        **kwargs,
    )


# 3 categories of very different sizes, 2 datasets known only by publisher, 1 with neither
CATALOG = (
    [record(f"t{n:03d}", "Transportation") for n in range(60)]
    + [record(f"s{n:03d}", "Public Safety") for n in range(10)]
    + [record(f"h{n:03d}", "Health") for n in range(2)]
    + [record("p1", publisher="Parks Dept"), record("p2", publisher="parks  dept")]
    + [record("x1"), record("chart", "Health", is_dataset=False)]
)


def test_strata_are_first_category_else_publisher():
    assert stratum(record("a", "Health")) == "category:health"
    assert stratum(record("a", " ", publisher="Parks  Dept")) == "publisher:parks dept"
    assert stratum(record("a")) == "none"


def test_every_stratum_is_visited_before_any_gives_a_second_dataset():
    order = sample_order(CATALOG, seed=7)
    assert len(order) == 75 and "chart" not in {r.dataset_id for r in order}
    first = Counter(stratum(r) for r in order[:5])
    assert set(first) == {"category:transportation", "category:public safety", "category:health"} | {
        "publisher:parks dept",
        "none",
    }
    eleven = Counter(stratum(r) for r in order[:11])  # rounds of 5, 4 (one stratum ran out), 2
    assert eleven["category:health"] == 2 and eleven["publisher:parks dept"] == 2 and eleven["none"] == 1
    assert eleven["category:transportation"] == eleven["category:public safety"] == 3


def test_same_portal_same_sample_whatever_the_catalog_order():
    seed = portal_seed("socrata", "data.example.gov")
    assert seed == portal_seed("socrata", "data.example.gov") != portal_seed("ckan", "data.example.gov")
    forward = [r.dataset_id for r in sample_order(CATALOG, seed)]
    backward = [r.dataset_id for r in sample_order(list(reversed(CATALOG)), seed)]
    assert forward == backward
    other = [r.dataset_id for r in sample_order(CATALOG, portal_seed("socrata", "data.other.gov"))]
    assert other != forward and sorted(other) == sorted(forward)


def test_candidates_are_bounded_by_the_attempts_factor():
    chosen = list(candidates(CATALOG, "socrata", "data.example.gov", 25, 2.0))
    assert len(chosen) == 50 and len({r.dataset_id for r in chosen}) == 50
    assert list(candidates(CATALOG, "socrata", "data.example.gov", 0, 2.0)) == []
    assert len(list(candidates(CATALOG[:3], "socrata", "data.example.gov", 25, 2.0))) == 3


def test_repeated_ids_are_sampled_once():
    twice = [record("a", "Health"), record("a", "Health"), record("b", "Health")]
    assert [r.dataset_id for r in sample_order(twice, 1)] in (["a", "b"], ["b", "a"])


def test_rows_are_kept_while_they_fit_the_byte_cap():
    rows = [{"n": n, "text": "x" * 100} for n in range(50)]
    size = len(json.dumps(rows[0])) + 1
    kept, cut = within_bytes(rows, 10 * size)
    assert len(kept) == 10 and cut is True and kept == rows[:10]
    assert within_bytes(rows, 10**6) == (rows, False)
