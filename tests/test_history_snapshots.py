"""Reading a snapshot directory: a MANIFEST.tsv or YYYYMMDD.json files; bad entries one line each."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from wwc_pipeline.history.snapshots import (
    LoadedSnapshot,
    SnapshotError,
    SnapshotFile,
    SnapshotProblem,
    list_snapshots,
    load_snapshot,
    read_snapshots,
)

DCAT = {
    "conformsTo": "https://project-open-data.cio.gov/v1.1/schema",
    "dataset": [
        {"identifier": "https://hub.example.gov/datasets/a", "title": "A", "modified": "2020-01-01"},
        {"identifier": "https://hub.example.gov/datasets/b", "title": "B"},
    ],
}
CKAN = [{"id": "pkg-1", "name": "one", "title": "One", "num_resources": 0, "resources": []}]


def write(path: Path, content: object) -> Path:
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def test_dated_names_in_date_order_with_bad_files_reported(tmp_path: Path) -> None:
    write(tmp_path / "20200301.json", DCAT)
    write(tmp_path / "20190105.json", CKAN)
    write(tmp_path / "20191332.json", DCAT)  # no 32nd of the 13th month
    write(tmp_path / "latest.json", DCAT)
    write(tmp_path / "20200401.json", "{not json")
    write(tmp_path / "20200501.json", {"hello": "world"})
    (tmp_path / "notes.txt").write_text("ignored: not JSON by name")
    items = list(read_snapshots(tmp_path))
    problems = [str(item) for item in items if isinstance(item, SnapshotProblem)]
    loaded = [item for item in items if isinstance(item, LoadedSnapshot)]
    assert [(s.path.name, s.platform, s.as_of) for s in loaded] == [
        ("20190105.json", "ckan", datetime(2019, 1, 5, tzinfo=UTC)),
        ("20200301.json", "dcat", datetime(2020, 3, 1, tzinfo=UTC)),
    ]
    assert len(problems) == 4
    assert problems[0] == "20191332.json: bad date '20191332' in the file name"
    assert problems[1] == "latest.json: not named YYYYMMDD.json and no MANIFEST.tsv lists it"
    assert problems[2].startswith("20200401.json: is not valid JSON")
    assert problems[3] == (
        "20200501.json: its shape matches no known platform; name its platform in MANIFEST.tsv"
    )
    assert all("\n" not in line for line in problems)


def test_manifest_gives_order_platform_and_as_of(tmp_path: Path) -> None:
    write(tmp_path / "new.json", DCAT)
    write(tmp_path / "old.json", DCAT)
    write(tmp_path / "auto.json", CKAN)
    (tmp_path / "MANIFEST.tsv").write_text(
        "file\tplatform\tas_of\tnotes\n"
        "new.json\tdcat\t2021-06-01\t\n"
        "old.json\tdcat\t2019-02-03T12:00:00Z\tnoon\n"
        "auto.json\tauto\t2020-01-01\t\n"
        "missing.json\tdcat\t2020-01-01\t\n"
        "new.json\tdcat\t2021-13-01\ttypo\n"
    )
    entries, problems = list_snapshots(tmp_path)
    assert [(e.path.name, e.platform, e.as_of) for e in entries] == [
        ("old.json", "dcat", datetime(2019, 2, 3, 12, tzinfo=UTC)),
        ("auto.json", None, datetime(2020, 1, 1, tzinfo=UTC)),
        ("new.json", "dcat", datetime(2021, 6, 1, tzinfo=UTC)),
    ]
    assert [str(p) for p in problems] == [
        "missing.json: listed in MANIFEST.tsv but not found",
        "new.json: bad as_of '2021-13-01' in MANIFEST.tsv; use YYYY-MM-DD",
    ]


def test_manifest_platform_must_fit_the_file(tmp_path: Path) -> None:
    write(tmp_path / "a.json", CKAN)
    with pytest.raises(SnapshotError, match=r"^a.json: does not look like a dcat catalog"):
        load_snapshot(SnapshotFile(tmp_path / "a.json", datetime(2020, 1, 1, tzinfo=UTC), "dcat"))
    with pytest.raises(SnapshotError, match=r"unknown platform 'arcgis'"):
        load_snapshot(SnapshotFile(tmp_path / "a.json", datetime(2020, 1, 1, tzinfo=UTC), "arcgis"))


def test_manifest_without_its_columns_is_refused(tmp_path: Path) -> None:
    (tmp_path / "MANIFEST.tsv").write_text("name\tdate\nx.json\t2020-01-01\n")
    with pytest.raises(ValueError, match="lacks the column\\(s\\) file, platform, as_of"):
        list_snapshots(tmp_path)


def test_missing_or_empty_directory(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not found"):
        list_snapshots(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="holds no snapshots"):
        list_snapshots(tmp_path)


def test_loaded_snapshot_has_the_portal_and_a_digest_of_the_bytes(tmp_path: Path) -> None:
    first = write(tmp_path / "20200101.json", DCAT)
    same = write(tmp_path / "20200102.json", DCAT)
    other = write(tmp_path / "20200103.json", {**DCAT, "dataset": DCAT["dataset"][:1]})
    loaded = [
        load_snapshot(SnapshotFile(p, datetime(2020, 1, 1, tzinfo=UTC)), lambda platform: "hub.example.gov")
        for p in (first, same, other)
    ]
    assert loaded[0].digest == loaded[1].digest != loaded[2].digest
    assert {r.portal for r in loaded[0].records} == {"hub.example.gov"}
    assert [r.dataset_id for r in loaded[0].datasets] == [e["identifier"] for e in DCAT["dataset"]]
