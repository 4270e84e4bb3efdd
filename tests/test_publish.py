"""`wwc publish`: the evidence as an open dataset that the project itself scores "met".

The DCAT-US 1.1 required fields are encoded below from the v1.1 schema as PLATFORMS.md 3.1-3.3
summarises it (non-federal catalogs: bureauCode and programCode are federal only).
"""

from __future__ import annotations

import json

import jsonschema
import pandas as pd
import pytest
from typer.testing import CliRunner

from wwc_pipeline.cli import app
from wwc_pipeline.offline import evaluate_files

DCAT_US_11 = {
    "type": "object",
    "required": ["conformsTo", "dataset"],
    "properties": {
        "conformsTo": {"const": "https://project-open-data.cio.gov/v1.1/schema"},
        "dataset": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": [
                    "title",
                    "description",
                    "keyword",
                    "modified",
                    "publisher",
                    "contactPoint",
                    "identifier",
                    "accessLevel",
                ],
                "properties": {
                    "title": {"type": "string", "minLength": 1},
                    "description": {"type": "string", "minLength": 1},
                    "keyword": {"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1}},
                    "modified": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}"},
                    "publisher": {"type": "object", "required": ["name"]},
                    "contactPoint": {
                        "type": "object",
                        "required": ["fn", "hasEmail"],
                        "properties": {
                            "hasEmail": {"type": "string", "pattern": r"^mailto:[\w.%+-]+@[\w.-]+$"}
                        },
                    },
                    "identifier": {"type": "string", "minLength": 1},
                    "accessLevel": {"enum": ["public", "restricted public", "non-public"]},
                    "license": {"type": "string", "pattern": "^https?://"},
                    "accrualPeriodicity": {"type": "string", "pattern": r"^(irregular|R/P.+)$"},
                    "describedBy": {"type": "string", "pattern": "^(https?|file)://"},
                    "distribution": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "dependentRequired": {"downloadURL": ["mediaType"]},
                            "properties": {
                                "mediaType": {"type": "string", "pattern": "^[-\\w.]+/[-\\w.+]+$"}
                            },
                        },
                    },
                },
            },
        },
    },
}


@pytest.fixture(scope="module")
def published(tmp_path_factory, scanned_testville):
    folder = tmp_path_factory.mktemp("published")
    city = scanned_testville
    runner = CliRunner()
    env = {"WWC_DATABASE_URL": city.warehouse.url}
    result = runner.invoke(
        app, ["publish", "--out", str(folder), "--contact-email", "data@example.org"], env=env
    )
    assert result.exit_code == 0, result.output
    refused = runner.invoke(
        app, ["publish", "--out", str(folder / "x")], env={**env, "WWC_PUBLISH_CONTACT_EMAIL": ""}
    )
    assert refused.exit_code == 2 and "--contact-email" in refused.output
    yield folder, city


def test_data_json_has_every_dcat_us_11_required_field(published):
    folder, _ = published
    document = json.loads((folder / "data.json").read_text())
    jsonschema.validate(document, DCAT_US_11, cls=jsonschema.Draft202012Validator)
    for dataset in document["dataset"]:
        assert dataset["accrualPeriodicity"] == "R/P1D"
        assert dataset["contactPoint"]["hasEmail"] == "mailto:data@example.org"
        assert dataset["describedBy"].endswith("data-dictionary.csv")
        media = {d["mediaType"] for d in dataset["distribution"]}
        assert media == {"text/csv", "application/vnd.apache.parquet"}
        for distribution in dataset["distribution"]:
            assert (folder / distribution["downloadURL"].rsplit("/", 1)[1]).is_file()
    missing_email = json.loads(json.dumps(document))
    del missing_email["dataset"][0]["contactPoint"]["hasEmail"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(missing_email, DCAT_US_11, cls=jsonschema.Draft202012Validator)


def test_the_project_scores_its_own_catalog_met(published):
    folder, _ = published
    result, _ = evaluate_files([folder / "data.json"], "dcat", None)
    statuses = {cid: row["status"] for cid, row in result["criteria"].items()}
    for criterion_id in (
        "MEASURE-OD-METADATA",
        "MEASURE-OD-LICENSE",
        "MEASURE-OD-MACHINE",
        "TAKESTOCK-CADENCE",
    ):
        assert statuses[criterion_id] == "met", (criterion_id, result["criteria"][criterion_id])
    assert result["datasets"] >= 5  # min_datasets: one dataset per table of evidence


def test_csv_and_parquet_tables_agree_with_the_reports(published):
    folder, city = published
    report = city.warehouse.city_report(city.city_id)
    for table in (
        "criteria",
        "datasets",
        "dataset_checks",
        "portal_checks",
        "portals",
        "key_datasets",
        "score_history",
    ):
        from_csv = pd.read_csv(folder / f"{table}.csv")
        from_parquet = pd.read_parquet(folder / f"{table}.parquet")
        assert len(from_csv) == len(from_parquet) > 0, table
        assert list(from_csv.columns) == list(from_parquet.columns)
    criteria = pd.read_parquet(folder / "criteria.parquet").set_index("criterion_id")
    for criterion in report["criteria"]:
        row = criteria.loc[criterion["criterion_id"]]
        assert row["status"] == criterion["status"]
        assert (pd.isna(row["score"]) and criterion["score"] is None) or row["score"] == criterion["score"]
    assert str(criteria["met_threshold"].dtype) == "Float64" and str(criteria["run_id"].dtype) == "Int64"
    assert len(pd.read_parquet(folder / "datasets.parquet")) == len(report["datasets"])
    history = pd.read_parquet(folder / "score_history.parquet")
    assert sorted(history["run_id"].unique()) == city.run_ids
    dictionary = pd.read_csv(folder / "data-dictionary.csv")
    assert set(dictionary["table"]) == {
        d["identifier"].rsplit("/", 1)[1] for d in json.loads((folder / "data.json").read_text())["dataset"]
    }
