"""Every recorded catalog against its test vectors in real-portals/expected/ (METRICS.md).

One test per manifest file (the history snapshots included): normalize with the platform's
connector, evaluate at the manifest's as-of date, and compare the counts, every metric and
every `--details` line. Platforms whose connector is not written yet are skipped.
"""

from __future__ import annotations

import contextlib
import csv
import importlib
import json
import math
from datetime import UTC, datetime
from pathlib import Path

import pytest

# Registers the metric checks even before checks/__init__.py imports them.
import wwc_pipeline.checks.formats  # noqa: F401
import wwc_pipeline.checks.freshness  # noqa: F401
import wwc_pipeline.checks.licences  # noqa: F401
import wwc_pipeline.checks.metadata  # noqa: F401

from tests.conftest import REAL_PORTALS
from wwc_pipeline import registry
from wwc_pipeline.evaluate import METRIC_NAMES, evaluate_records, evaluation_json

pytestmark = pytest.mark.contract
EXPECTED = REAL_PORTALS / "expected"
FLOAT_TOLERANCE = 1e-9


def vector_cases() -> list[tuple[Path, str, dict]]:
    """(raw file, expected-file stem, manifest row) for the main and every history manifest."""
    manifests = [(REAL_PORTALS / "MANIFEST.tsv", "")]
    history = REAL_PORTALS / "history"
    if history.is_dir():
        for manifest in sorted(history.glob("*/MANIFEST.tsv")):
            manifests.append((manifest, f"history--{manifest.parent.name}--"))
    cases = []
    for manifest, prefix in manifests:
        if not manifest.is_file():
            continue
        with manifest.open() as handle:
            for row in csv.DictReader(handle, delimiter="\t"):
                cases.append((manifest.parent / row["file"], prefix + Path(row["file"]).stem, row))
    return cases


CASES = vector_cases()


def connector_for(platform: str):
    """The registered connector, importing `connectors.<platform>` directly if need be."""
    with contextlib.suppress(ModuleNotFoundError):
        importlib.import_module(f"wwc_pipeline.connectors.{platform}")
    try:
        return registry.get_connector(platform)
    except registry.UnknownPlatformError:
        pytest.skip(f"no connector registered for platform {platform!r} yet")


def same_value(got: object, expected: object) -> bool:
    if isinstance(expected, float) and isinstance(got, (int, float)) and not isinstance(got, bool):
        return math.isclose(got, expected, rel_tol=0, abs_tol=FLOAT_TOLERANCE)
    return got == expected and type(got) is type(expected)


def test_vectors_are_present() -> None:
    if not CASES:
        pytest.skip(f"real recorded catalogs not found at {REAL_PORTALS} (../shared absent)")
    assert all((EXPECTED / f"{stem}.summary.json").is_file() for _, stem, _ in CASES)


@pytest.mark.parametrize(("raw_file", "stem", "row"), CASES, ids=[stem for _, stem, _ in CASES])
def test_catalog_matches_vectors(raw_file: Path, stem: str, row: dict) -> None:
    if not raw_file.is_file():
        pytest.skip(f"{raw_file} not found (../shared absent)")
    connector = connector_for(row["platform"])
    as_of = datetime.fromisoformat(row["as_of"]).replace(tzinfo=UTC)
    records = connector.records_from_document(json.loads(raw_file.read_text()))
    evaluation = evaluate_records(records, as_of, row["platform"], None)
    got = evaluation_json(evaluation)
    expected = json.loads((EXPECTED / f"{stem}.summary.json").read_text())

    assert (got["assets"], got["datasets"]) == (expected["assets"], expected["datasets"])
    assert set(got["metrics"]) == set(expected["metrics"]) == {*METRIC_NAMES, "freshness"}
    for metric, counts in expected["metrics"].items():
        assert got["metrics"][metric] == counts, f"{stem}: metric {metric}"

    expected_lines = [
        json.loads(line) for line in (EXPECTED / f"{stem}.details.jsonl").read_text().splitlines()
    ]
    got_lines = [dataset.details_line() for dataset in evaluation.dataset_evaluations]
    assert len(got_lines) == len(expected_lines)
    mismatches = [
        f"line {number} ({want['dataset_id']}): {key} = {line.get(key)!r}, expected {value!r}"
        for number, (line, want) in enumerate(zip(got_lines, expected_lines, strict=True), start=1)
        for key, value in want.items()
        if not same_value(line.get(key), value)
    ]
    assert not mismatches, f"{stem}: {len(mismatches)} mismatches, first: " + "; ".join(mismatches[:5])
    assert all(set(line) == set(want) for line, want in zip(got_lines, expected_lines, strict=True))
