"""Dataset identity rules and run changes on small hand-made catalogs."""

from __future__ import annotations

from datetime import UTC, datetime

from wwc_pipeline.history.changes import changes_between
from wwc_pipeline.history.identity import arcgis_service_key, match_datasets, platform_key
from wwc_pipeline.history.timeline import follow
from wwc_pipeline.model import DatasetRecord, Distribution

LAYER = "https://services.arcgis.com/Org/arcgis/rest/services/Parcels/FeatureServer/0"


def dcat(dataset_id: str, title: str | None = None, service: str | None = None, **fields) -> DatasetRecord:
    distributions = [Distribution(format="Web page", url=dataset_id)]
    if service:
        distributions.append(Distribution(format="Esri REST", url=service))
    return DatasetRecord(
        "dcat", "hub.example.gov", dataset_id, title=title, distributions=distributions, **fields
    )


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_exact_and_scheme_matches() -> None:
    before = [dcat("http://hub/a", "A"), dcat("http://hub/b", "B")]
    after = [dcat("http://hub/a", "A"), dcat("https://hub/b", "B")]
    matching = match_datasets(before, after)
    assert matching.pairs == {"http://hub/a": "http://hub/a", "https://hub/b": "http://hub/b"}
    assert [(r.old_id, r.new_id, r.rule) for r in matching.renames] == [
        ("http://hub/b", "https://hub/b", "identifier_without_scheme")
    ]
    assert matching.added == matching.removed == []


def test_service_layer_is_normalized() -> None:
    variants = [
        LAYER,
        "http://services.arcgis.com/Org/arcgis/rest/services/Parcels/FeatureServer/0/",
        "https://SERVICES.arcgis.com/Org/arcgis/rest/services/parcels/featureserver/0/query?where=1%3D1",
    ]
    keys = {arcgis_service_key(dcat("x", service=url)) for url in variants}
    assert keys == {"arcgis:services.arcgis.com/org/arcgis/rest/services/parcels/featureserver/0"}
    other_layer = arcgis_service_key(dcat("x", service=LAYER.replace("/0", "/1")))
    assert other_layer not in keys
    assert arcgis_service_key(dcat("x", service="https://example.gov/parcels.csv")) is None
    two_layers = dcat("x", service=LAYER)
    two_layers.distributions.append(Distribution(url=LAYER.replace("/0", "/1")))
    assert arcgis_service_key(two_layers) is None  # which one would it be?


def test_platform_keys_per_platform() -> None:
    socrata_written = dcat("https://data.example.gov/api/views/abcd-1234", "Permits")
    assert platform_key(socrata_written) == "socrata:abcd-1234"
    assert platform_key(DatasetRecord("socrata", "d", "abcd-1234")) is None  # the id is already stable
    assert platform_key(DatasetRecord("ckan", "d", "3f2a-uuid")) is None


def test_service_layer_then_unique_title() -> None:
    before = [
        dcat("http://hub/datasets/item1_0", "Parcels", LAYER),
        dcat("http://hub/datasets/item2_0", "Wards"),
    ]
    after = [
        dcat("https://hub/maps/org::parcels", "Parcels 2020", LAYER),
        dcat("https://hub/maps/org::wards", "Wards"),
    ]
    matching = match_datasets(before, after)
    assert {(r.new_id, r.rule) for r in matching.renames} == {
        ("https://hub/maps/org::parcels", "platform_key"),
        ("https://hub/maps/org::wards", "unique_title"),
    }


def test_ambiguous_keys_and_titles_do_not_match() -> None:
    before = [dcat("http://hub/1", "Fires", LAYER), dcat("http://hub/2", "Fires", LAYER)]
    after = [dcat("https://hub/x", "Fires", LAYER), dcat("https://hub/y", "Fires", LAYER)]
    matching = match_datasets(before, after)
    assert matching.pairs == {}
    assert matching.added == ["https://hub/x", "https://hub/y"]
    assert matching.removed == ["http://hub/1", "http://hub/2"]


def test_a_shared_layer_is_told_apart_by_creation_time() -> None:
    before = [dcat("http://hub/old", "Parcels", LAYER, created_at=utc(2020, 3, 31))]
    after = [
        dcat("https://hub/p", "Parcels", LAYER, created_at=utc(2020, 3, 31)),
        dcat("https://hub/p-1", "Parcels", LAYER, created_at=utc(2022, 5, 13)),
    ]
    matching = match_datasets(before, after)
    assert matching.pairs == {"https://hub/p": "http://hub/old"}
    assert matching.added == ["https://hub/p-1"]


def test_title_must_be_unique_in_the_whole_run() -> None:
    """A title shared with a dataset matched earlier still counts as shared."""
    before = [dcat("http://hub/a", "Zoning"), dcat("http://hub/b", "Zoning")]
    after = [dcat("http://hub/a", "Zoning"), dcat("http://hub/c", "Zoning")]
    matching = match_datasets(before, after)
    assert matching.pairs == {"http://hub/a": "http://hub/a"}
    assert (matching.added, matching.removed) == (["http://hub/c"], ["http://hub/b"])


def test_matches_are_one_to_one_and_repeats_are_one_dataset() -> None:
    before = [dcat("http://hub/a", "A"), dcat("http://hub/a", "A")]
    after = [dcat("https://hub/a", "A"), dcat("http://hub/a", "A")]
    matching = match_datasets(before, after)
    assert matching.pairs == {"http://hub/a": "http://hub/a"}
    assert matching.added == ["https://hub/a"] and matching.removed == []


def test_changes_data_and_metadata() -> None:
    before = [
        dcat("a", "A", data_modified_at=utc(2020, 1, 1)),
        dcat("b", "B", data_modified_at=utc(2020, 1, 1)),
        dcat("c", "C", data_modified_at=utc(2020, 1, 1)),
        dcat("gone", "Gone"),
    ]
    after = [
        dcat("a", "A", data_modified_at=utc(2020, 2, 1)),  # data changed
        dcat("b", "B renamed title", data_modified_at=utc(2020, 1, 1)),  # metadata only
        dcat("c", "C", data_modified_at=utc(2020, 1, 1)),  # unchanged
        dcat("new", "New"),
    ]
    changes = changes_between(before, after)
    assert changes.counts() == {
        "added": 1,
        "removed": 1,
        "renamed": 0,
        "data_changed": 1,
        "metadata_changed": 1,
    }
    assert (changes.data_changed, changes.metadata_changed) == (["a"], ["b"])


def test_non_datasets_are_left_out() -> None:
    chart = DatasetRecord("socrata", "d", "chrt-0001", is_dataset=False, title="A chart")
    changes = changes_between([], [chart, DatasetRecord("socrata", "d", "data-0001", title="Data")])
    assert changes.added == ["data-0001"]


def test_timeline_keeps_the_lineage_of_a_dataset_that_comes_back() -> None:
    runs = [
        (utc(2020, 1, 1), [dcat("http://hub/a", "A"), dcat("http://hub/b", "B")]),
        (utc(2020, 2, 1), [dcat("http://hub/a", "A")]),
        (utc(2020, 3, 1), [dcat("https://hub/a", "A"), dcat("https://hub/b", "B (back)")]),
    ]
    first, second, third = follow(runs)
    assert third.lineage["https://hub/a"] == first.lineage["http://hub/a"]
    assert third.lineage["https://hub/b"] == first.lineage["http://hub/b"]  # back after a gap, scheme aside
    assert third.changes.added == ["https://hub/b"]  # still new relative to the previous run
    assert second.changes.removed == ["http://hub/b"]
    assert first.changes is None
