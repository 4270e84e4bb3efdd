"""History on Minneapolis's 12 real ArcGIS Hub snapshots (2018-2022): identity, changes, observed cadence.

Every expected value was read from the raw JSON (jq, or the few lines of python here that read
the raw files with `json` and `datetime` only), never from the code under test. The arithmetic
behind each observed interval is written out next to it.
"""

from __future__ import annotations

import csv
import json
import statistics
from datetime import UTC, datetime

import pytest

from tests.conftest import REAL_PORTALS
from wwc_pipeline.history.identity import match_datasets
from wwc_pipeline.history.snapshots import LoadedSnapshot, read_snapshots
from wwc_pipeline.history.timeline import follow

pytestmark = pytest.mark.contract

HISTORY = REAL_PORTALS / "history" / "minneapolis"
HUB = "opendata.minneapolismn.gov"


def raw_entries(name: str) -> list[dict]:
    return json.loads((HISTORY / name).read_text())["dataset"]


def raw_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def history() -> tuple[list[LoadedSnapshot], list]:
    if not (HISTORY / "MANIFEST.tsv").is_file():
        pytest.skip(f"{HISTORY} not found (../shared absent)")
    snapshots = list(read_snapshots(HISTORY, lambda platform: HUB))
    assert all(isinstance(snapshot, LoadedSnapshot) for snapshot in snapshots), snapshots
    return snapshots, follow((snapshot.as_of, snapshot.records) for snapshot in snapshots)


def run_index(snapshots: list[LoadedSnapshot], name: str) -> int:
    return [snapshot.path.name for snapshot in snapshots].index(name)


def ids_titled(snapshot: LoadedSnapshot, title: str) -> list[str]:
    return [record.dataset_id for record in snapshot.datasets if record.title == title]


def test_snapshots_load_in_as_of_order_with_the_manifest_counts(history) -> None:
    snapshots, _ = history
    with (HISTORY / "MANIFEST.tsv").open() as handle:
        rows = sorted(csv.DictReader(handle, delimiter="\t"), key=lambda row: row["as_of"])
    assert [s.path.name for s in snapshots] == [row["file"] for row in rows]
    assert [len(s.datasets) for s in snapshots] == [int(row["entries"]) for row in rows]
    assert [s.as_of.date().isoformat() for s in snapshots] == [row["as_of"] for row in rows]
    assert all(s.platform == "dcat" and s.as_of.tzinfo is not None for s in snapshots)


def test_police_use_of_force_is_one_dataset_across_its_three_identifiers(history) -> None:
    snapshots, runs = history
    # The identifiers as the raw files list them (jq '.dataset[] | select(.title=="Police Use of Force")').
    raw_ids = [
        [entry["identifier"] for entry in raw_entries(s.path.name) if entry["title"] == "Police Use of Force"]
        for s in snapshots
    ]
    item = "opendata.minneapolismn.gov/datasets/6d8110617c4b4971a270ff0834971b89_0"
    http, https, slug = (
        f"http://{item}",
        f"https://{item}",
        f"https://{HUB}/maps/cityoflakes::police-use-of-force",
    )
    assert raw_ids == [[http]] * 7 + [[https]] * 4 + [[slug]]
    lineages = {run.lineage[ids[0]] for run, ids in zip(runs, raw_ids, strict=True)}
    assert len(lineages) == 1
    renames = [
        (snapshot.path.name, rename.old_id, rename.new_id, rename.rule)
        for snapshot, run in zip(snapshots, runs, strict=True)
        if run.changes
        for rename in run.changes.renamed
        if rename.new_id in (https, slug)
    ]
    assert renames == [
        ("20201118.json", http, https, "identifier_without_scheme"),
        ("20220616.json", https, slug, "platform_key"),  # same FeatureServer layer Police_Use_of_Force/0
    ]


def observed(history, title: str, name: str):
    snapshots, runs = history
    index = run_index(snapshots, name)
    [dataset_id] = ids_titled(snapshots[index], title)
    return runs[index].observed[dataset_id]


# (title, run, interval, status). Times are the raw `modified` values of the dataset up to that
# run (jq, per file: '.dataset[] | select(.title==T) | .modified'); gaps in days.
CADENCE_CASES = [
    # 2018-01-04T14:47:05.988Z, 2018-09-10T15:17:18.559Z (twice more): 2 distinct times -> unknown.
    ("Police Use of Force", "20190405.json", None, "unknown"),
    # + 2019-11-10T14:50:51Z: gaps 249.02, 425.98 -> median 337.5; the run's own update, age -0.6 -> fresh.
    ("Police Use of Force", "20191110.json", 337.5, "fresh"),
    # 10 distinct times over the 12 files; gaps 249.02, 425.98, 89.00, 121.99, 162.01, 127.96, 86.00,
    # 156.05 (2021-06-19T13:52:20 -> 2021-11-22T15:07:29 = 156 d 1 h 15 min 9 s), 205.95 ->
    # median (5th of 9) 156.05 -> 156.1; age -0.58 -> fresh.
    ("Police Use of Force", "20220616.json", 156.1, "fresh"),
    # 2018-01-04T04:00:36.021Z (item 899b95..., renamed to 3d33a4... over the same service layer),
    # 2018-09-10T15:17:18.465Z, 2018-12-18T19:03:34.052Z: gaps 249.47, 99.16 -> 174.3;
    # age at 2019-02-15: 58.2 <= 1.5 x 174.3 + 1 -> fresh.
    ("Police Incidents 2017", "20190215.json", 174.3, "fresh"),
    # + 2018-06-29T16:22:28Z (an earlier time, listed from 2019-11 on): sorted 01-04, 06-29, 09-10,
    # 12-18: gaps 176.52, 72.95, 99.16 -> 99.2; age at 2019-11-10: 498.3 > 149.8 -> stale.
    ("Police Incidents 2017", "20191110.json", 99.2, "stale"),
    # 2017-06-01T17:31:13.583Z (item cb8d4b..., renamed over the same service), 2018-03-27T14:20:15.813Z,
    # 2018-03-27T14:19:42Z, 2020-04-30T19:18:40Z, 2020-09-08T20:07:15Z: sorted gaps 298.87, 0.0004,
    # 765.21, 131.03 -> median (131.03 + 298.87) / 2 = 214.95 -> 215.0; age 439.2 > 323.5 -> stale.
    ("Hydrants", "20211122.json", 215.0, "stale"),
    # Same times; at 2021-06-22 the age is 286.2 <= 323.5 -> fresh.
    ("Hydrants", "20210622.json", 215.0, "fresh"),
]


@pytest.mark.parametrize(("title", "name", "interval", "status"), CADENCE_CASES)
def test_observed_cadence_by_hand(
    history, title: str, name: str, interval: float | None, status: str
) -> None:
    result = observed(history, title, name)
    assert (result.interval_days, result.status) == (interval, status)


def test_observed_interval_matches_a_plain_computation_from_the_raw_files(history) -> None:
    """Police Use of Force over all 12 files, straight from the raw `modified` strings."""
    snapshots, _ = history
    times = sorted(
        {
            raw_time(entry["modified"])
            for s in snapshots
            for entry in raw_entries(s.path.name)
            if entry["title"] == "Police Use of Force"
        }
    )
    gaps = [(b - a).total_seconds() / 86400 for a, b in zip(times, times[1:], strict=False)]
    result = observed(history, "Police Use of Force", "20220616.json")
    assert result.updates_seen == len(times) == 10
    assert result.interval_days == round(statistics.median(gaps), 1)
    as_of = datetime(2022, 6, 16, tzinfo=UTC)
    assert result.age_days == pytest.approx((as_of - times[-1]).total_seconds() / 86400)


def test_changes_from_march_to_june_2021(history) -> None:
    """No identifier changed between these two files: set differences of the raw ids give the answer."""
    snapshots, runs = history
    index = run_index(snapshots, "20210622.json")
    before = {e["identifier"]: e for e in raw_entries("20210326.json")}
    after = {e["identifier"]: e for e in raw_entries("20210622.json")}
    moved = [
        i for i in after if i in before and raw_time(before[i]["modified"]) != raw_time(after[i]["modified"])
    ]
    changes = runs[index].changes
    assert sorted(changes.added) == sorted(set(after) - set(before))
    assert changes.removed == [i for i in before if i not in after]
    assert changes.counts()["added"] == 3 and changes.counts()["removed"] == 1  # CCS Permits, ...; PW Alleys
    assert changes.renamed == []
    assert sorted(changes.data_changed) == sorted(moved)
    assert len(moved) == 20


# The 8 datasets of 20201118.json whose item id changed as well as the scheme, read by hand: each
# old id is absent from the new file, each new id absent from the old one, titles identical.
ITEM_CHANGES_2020_11 = {
    "b2542607ea704cca87c0915b987a40da_0": "f803b3e2d78c45ec96d2aaa7a2e164cc_0",  # Scooter Trips August 2019
    "38cfcfe07c2543ad869c8ee8c8378b5e_0": "ad9b4feddc4549caaf8be421375c9b8f_0",  # July 2019
    "4001ebcfd38d404c9662cbfc3311c3c8_0": "39025968b3ec46a6b81c87fe963abf45_0",  # June 2019
    "940fad9e84a144029b71a36538c3706f_0": "7fff2f78728d40259c1cdfbe90b5471b_0",  # May 2019
    "01cc4e6abf5f40398efc299585dc9775_0": "94797abf060d41299274a8b379612dfd_0",  # November 2019
    "70977c11cc9b419fa5856351be721fbd_0": "c1a69db25f164ed1a05786ff57936aee_0",  # October 2019
    "deb23b7c4983427aa83881db0e5ee6ad_0": "1eebb18148cf4f48a9a1669057eaa480_0",  # September 2019
    "0b2bdda8493c47f088100f831885bdce_0": "a5e99776bbab494da81deb9c79bab31d_0",  # Water
}


def test_changes_from_june_to_november_2020(history) -> None:
    """http -> https for every dataset, and 8 datasets republished under a new item id."""
    snapshots, runs = history
    changes = runs[run_index(snapshots, "20201118.json")].changes
    before = [e["identifier"] for e in raw_entries("20200608.json")]
    after = [e["identifier"] for e in raw_entries("20201118.json")]
    assert all(i.startswith("http://") for i in before) and all(i.startswith("https://") for i in after)
    by_rest = {i.removeprefix("http://"): i for i in before}
    scheme_only = {
        by_rest[i.removeprefix("https://")]: i for i in after if i.removeprefix("https://") in by_rest
    }
    assert len(scheme_only) == 139
    base = "opendata.minneapolismn.gov/datasets/"
    item_changes = {
        f"http://{base}{old}": f"https://{base}{new}" for old, new in ITEM_CHANGES_2020_11.items()
    }
    for old, new in item_changes.items():
        assert old in before and new in after and old.replace("http:", "https:") not in after
    renamed = {(r.old_id, r.new_id) for r in changes.renamed}
    assert renamed == set(scheme_only.items()) | set(item_changes.items())
    assert {r.rule for r in changes.renamed if (r.old_id, r.new_id) in scheme_only.items()} == {
        "identifier_without_scheme"
    }
    matched_new = set(scheme_only.values()) | set(item_changes.values())
    matched_old = set(scheme_only) | set(item_changes)
    assert sorted(changes.added) == sorted(i for i in after if i not in matched_new)
    assert changes.removed == [i for i in before if i not in matched_old]
    assert (len(changes.added), len(changes.removed), len(changes.renamed)) == (6, 1, 147)
    old_modified = {e["identifier"]: raw_time(e["modified"]) for e in raw_entries("20200608.json")}
    new_modified = {e["identifier"]: raw_time(e["modified"]) for e in raw_entries("20201118.json")}
    pairs = {
        **{new: old for old, new in scheme_only.items()},
        **{new: old for old, new in item_changes.items()},
    }
    moved = sorted(new for new, old in pairs.items() if old_modified[old] != new_modified[new])
    assert sorted(changes.data_changed) == moved


def test_assessors_parcels_2020_keeps_its_identity_through_a_second_item_over_the_same_layer(history) -> None:
    """In 2022 two Hub items wrap the layer Assessors_Parcel_Data_2020/0; the one issued 2020-03-31 is
    the dataset listed in 2021 (issued 2020-03-31 too), the other (issued 2022-05-13) is new."""
    snapshots, runs = history
    old_id = "https://opendata.minneapolismn.gov/datasets/bfd1c51a341f431c82ae5c56f852cbbb_0"
    same = f"https://{HUB}/maps/cityoflakes::assessors-parcel-data-2020"
    second = same + "-1"
    issued = {e["identifier"]: e["issued"] for e in raw_entries("20220616.json")}
    assert issued[same].startswith("2020-03-31") and issued[second].startswith("2022-05-13")
    last = runs[run_index(snapshots, "20220616.json")]
    before = runs[run_index(snapshots, "20211122.json")]
    assert last.lineage[same] == before.lineage[old_id] != last.lineage[second]
    assert second in last.changes.added


def test_matching_the_2022_slugs_needs_the_service_layer(history) -> None:
    """Without a platform key, the 2022 item-to-slug change would leave only titles to go on."""
    snapshots, _ = history
    before, after = snapshots[run_index(snapshots, "20211122.json")], snapshots[-1]
    matching = match_datasets(before.records, after.records)
    assert {r.rule for r in matching.renames} == {"platform_key", "unique_title"}
    # Every 2021 id is an item URL and every 2022 id a slug URL: nothing matches as is.
    assert not {e["identifier"] for e in raw_entries("20211122.json")} & {
        e["identifier"] for e in raw_entries("20220616.json")
    }
    assert matching.counts()["renamed"] == len(matching.pairs)
