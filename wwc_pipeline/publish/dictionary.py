"""The data dictionary of the published evidence: every table, every column, its type and meaning.

Types are those of the Parquet files (and of the CSV columns when read back): string, integer,
number, boolean, datetime. The dictionary is published as data-dictionary.csv, each dataset's
`describedBy`.
"""

from __future__ import annotations

# columns that several tables share, described once
CITY = ("city", "string", "City id.")
RUN_ID = ("run_id", "integer", "The scan the row comes from.")
PORTAL = ("portal", "string", "The portal's URL.")

TABLES: dict[str, tuple[str, str, list[tuple[str, str, str]]]] = {
    # table -> (title, description, [(column, type, description)])
    "criteria": (
        "WWC criterion scores per city",
        "One row per city and What Works Cities criterion, from each city's latest completed scan: the "
        "0-100 score, the status, the thresholds it was judged by and the evidence sentence.",
        [
            ("city", "string", "City id (config/cities.yaml)."),
            ("run_id", "integer", "The scan (run) the row comes from."),
            ("as_of", "datetime", "The time the scan describes (UTC)."),
            ("criterion_id", "string", "Our stable criterion id, e.g. MEASURE-OD-LICENSE."),
            ("component", "string", "WWC 2017 component: Commit, Measure, Take Stock or Act."),
            (
                "current",
                "string",
                "Current (2022) WWC criteria it is evidence for, ';'-separated (e.g. OD1;OD3).",
            ),
            ("title", "string", "The criterion in our words."),
            ("kind", "string", "How it is scored: metrics, portal, key_datasets or not_assessable."),
            ("score", "number", "0-100; empty when not scored."),
            (
                "status",
                "string",
                "met, partially met, not met, insufficient evidence, not assessable by scan.",
            ),
            ("met_threshold", "number", "Score at or above which the criterion is met."),
            ("partial_threshold", "number", "Score at or above which it is partially met."),
            (
                "min_datasets",
                "integer",
                "Metric criteria: fewer applicable datasets give insufficient evidence.",
            ),
            ("applicable_datasets", "integer", "Datasets judged on at least one of the criterion's metrics."),
            ("evidence", "string", "What the scan found, in one sentence."),
            ("what_would_change", "string", "What would move the status, computed from the counts."),
            ("check_ids", "string", "The checks the score was derived from, ';'-separated."),
        ],
    ),
    "datasets": (
        "Catalog entries scanned per city",
        "One row per catalog entry (dataset) of each city's latest completed scan, with its page on the "
        "portal and how many checks it fails.",
        [
            CITY,
            RUN_ID,
            PORTAL,
            ("position", "integer", "The entry's position in the portal's catalog (0-based)."),
            ("dataset_id", "string", "The dataset's id on the portal."),
            ("occurrence", "integer", "1, or k for the k-th listing of an id the catalog repeats."),
            ("title", "string", "The dataset's title as the portal gives it."),
            ("landing_page", "string", "The dataset's page on the portal (http/https only)."),
            ("checks_run", "integer", "Checks run on the dataset."),
            ("checks_failed", "integer", "Checks the dataset fails."),
        ],
    ),
    "dataset_checks": (
        "Dataset check results per city",
        "One row per catalog entry and check of each city's latest completed scan: pass, fail or not "
        "applicable, the reason, and the measured value in a typed column.",
        [
            CITY,
            RUN_ID,
            PORTAL,
            ("position", "integer", "The entry's position in the portal's catalog."),
            ("dataset_id", "string", "The dataset's id on the portal."),
            ("check_id", "string", "The check (METRICS.md names, e.g. has_license)."),
            ("status", "string", "pass, fail or na."),
            ("reason", "string", "Why, in one sentence."),
            ("value_number", "number", "The measured value when it is a number (booleans as 1/0)."),
            ("value_text", "string", "The measured value when it is text (a list of texts joined by '; ')."),
            ("value_json", "string", "Any other measured value, as JSON."),
            ("criteria", "string", "The criteria the check feeds, ';'-separated."),
        ],
    ),
    "portal_checks": (
        "Portal check results per city",
        "One row per portal-level check of each city's latest completed scan (policy document, inventory, "
        "links, activity, row quality, key datasets...).",
        [
            CITY,
            RUN_ID,
            PORTAL,
            ("check_id", "string", "The check."),
            ("status", "string", "pass, fail or na."),
            ("reason", "string", "What the check found, in one sentence."),
            ("score", "number", "The check's 0-100 score, when it has one."),
            ("value_json", "string", "The check's full measured value, as JSON."),
            ("criteria", "string", "The criteria the check feeds, ';'-separated."),
        ],
    ),
    "portals": (
        "Portal harvests per city",
        "One row per portal of each city's latest completed scan: harvest status, counts and warnings.",
        [
            CITY,
            RUN_ID,
            ("platform", "string", "socrata, ckan, dcat or opendatasoft."),
            PORTAL,
            ("status", "string", "complete, complete_with_warnings or failed."),
            ("assets", "integer", "Catalog entries listed."),
            ("datasets", "integer", "Entries that count as datasets."),
            ("pages", "integer", "Catalog pages read."),
            ("warnings", "string", "Harvest warnings, ';'-separated."),
            ("error", "string", "Why the harvest failed, when it did."),
        ],
    ),
    "key_datasets": (
        "Key datasets per city",
        "One row per city and key dataset type of the US City Open Data Census list: the best matching "
        "dataset and the Census's questions (online, machine-readable, bulk, open licence, up to date).",
        [
            CITY,
            RUN_ID,
            ("key_type", "string", "Key type id (config/key_datasets.yaml)."),
            ("key_type_name", "string", "Key type name."),
            ("found", "boolean", "A matching dataset was found."),
            ("portal", "string", "Portal of the best match."),
            ("dataset_id", "string", "Id of the best match."),
            ("title", "string", "Title of the best match."),
            ("link", "string", "Page of the best match (http/https)."),
            ("online", "boolean", "On a portal (empty: unknown or not found)."),
            ("machine_readable", "boolean", "In a machine-readable format."),
            ("bulk", "boolean", "Bulk download or API."),
            ("open_license", "boolean", "Under an open licence."),
            ("fresh", "boolean", "Up to date against its cadence."),
            ("open", "boolean", "Found and answering yes to every openness question scored."),
        ],
    ),
    "score_history": (
        "WWC criterion scores over time",
        "One row per city, completed scan and criterion, every scan of the city in as-of order: the trend "
        "of each score and status.",
        [
            CITY,
            ("run_id", "integer", "The scan."),
            ("as_of", "datetime", "The time the scan describes (UTC)."),
            ("kind", "string", "nightly, rescan, demo, backfill..."),
            ("datasets", "integer", "Datasets on the city's portals in that scan."),
            ("criterion_id", "string", "The criterion."),
            ("score", "number", "0-100; empty when not scored."),
            ("status", "string", "The status in that scan."),
        ],
    ),
}


def dictionary_rows() -> list[dict[str, str]]:
    """data-dictionary.csv: table, column, type, description."""
    return [
        {"table": table, "column": column, "type": kind, "description": description}
        for table, (_, _, columns) in TABLES.items()
        for column, kind, description in columns
    ]
