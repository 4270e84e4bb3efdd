"""Key datasets (US City Open Data Census) and disaggregated data (WWC OD3, RDC7, PA3, DM8).

`key_datasets.types`: per portal, per key type of config/key_datasets.yaml, the matching
datasets, each with the rule that matched and the Census's questions answered from the metric
checks (online, machine-readable, bulk or API, openly licensed, fresh against its cadence).
`key_datasets.disaggregated`: how many of the portal's tabular datasets have demographic or
small-area columns. The city-level "best match across portals" is `keydata.summary`.
"""

from __future__ import annotations

from datetime import datetime

from wwc_pipeline.checks.formats import record_tokens
from wwc_pipeline.checks.links import is_web_url, link_of
from wwc_pipeline.checks.portal import EVIDENCE_LIMIT, portal_result

from wwc_pipeline import registry
from wwc_pipeline.keydata.columns import dimensions_found, is_tabular
from wwc_pipeline.keydata.matching import classify, family
from wwc_pipeline.keydata.rules import KeyDatasetsConfig, cached_key_datasets
from wwc_pipeline.keydata.summary import DISAGGREGATED_CHECK, TYPES_CHECK, match_order
from wwc_pipeline.model import DatasetRecord
from wwc_pipeline.registry import portal_check
from wwc_pipeline.results import CheckResult, PortalContext, Status
from wwc_pipeline.text import clean_text


def answers(record: DatasetRecord, as_of: datetime, bulk_formats: frozenset[str]) -> dict[str, bool | None]:
    """The Census's five questions, from the registered metric checks (METRICS.md)."""
    checks = registry.DATASET_CHECKS
    licence = checks["open_license"](record, as_of).as_bool
    return {
        "online": True,  # listed in the portal's harvested catalog
        "machine_readable": checks["machine_readable"](record, as_of).as_bool,
        "bulk": bool(record_tokens(record) & bulk_formats),
        "open_license": bool(licence),  # no licence stated is not an open licence
        "fresh": checks["fresh"](record, as_of).as_bool,  # None: no cadence, or no last update
    }


def page_of(record: DatasetRecord) -> str | None:
    """Where a reviewer sees the dataset: its landing page, else its first http(s) download."""
    return record.landing_page.strip() if is_web_url(record.landing_page) else link_of(record)


def match_entry(
    record: DatasetRecord, rank: int, rule: dict, as_of: datetime, config: KeyDatasetsConfig
) -> dict:
    return {
        "dataset_id": record.dataset_id,
        "title": clean_text(record.title or ""),
        "asset_type": record.asset_type,
        "link": page_of(record),
        "rank": rank,
        "rule": rule,
        "answers": answers(record, as_of, frozenset(config.bulk_formats)),
        "dimensions": dimensions_found(record, config),
        "variants": 0,
    }


def key_type_matches(
    records: list[DatasetRecord], as_of: datetime, config: KeyDatasetsConfig
) -> dict[str, list[dict]]:
    """type id -> matches, best first; records that differ only by a format suffix count once."""
    families: dict[str, dict[str, dict]] = {key_type.id: {} for key_type in config.types}
    for record in records:
        for found in classify(record, config):
            entry = match_entry(record, found.rank, found.rule, as_of, config)
            by_family = families[found.type_id]
            key = family(record.title, config) or record.dataset_id
            kept = by_family.get(key)
            if kept is None:
                by_family[key] = entry
            elif match_order(entry) < match_order(kept):
                by_family[key] = {**entry, "variants": kept["variants"] + 1}
            else:
                kept["variants"] += 1
    return {type_id: sorted(found.values(), key=match_order) for type_id, found in families.items()}


@portal_check(TYPES_CHECK)
def key_dataset_types(records: list[DatasetRecord], context: PortalContext) -> list[CheckResult]:
    """Score = share of key types with at least one match on this portal (criteria score per city)."""
    config = cached_key_datasets()
    if not records:
        value = {"score": None, "examined": 0, "found": 0, "types": [], "missing": []}
        return [portal_result(TYPES_CHECK, Status.NA, value, "No catalog entries to examine.")]
    matches = key_type_matches(records, context.as_of, config)
    types = [
        {
            "id": key_type.id,
            "name": key_type.name,
            "definition": key_type.definition,
            "sets": list(key_type.sets),
            "count": len(matches[key_type.id]),
            "matches": matches[key_type.id][: config.matches_per_type],
        }
        for key_type in config.types
    ]
    found = [entry["id"] for entry in types if entry["count"]]
    missing = [entry["id"] for entry in types if not entry["count"]]
    value = {
        "score": round(100 * len(found) / len(types), 1),
        "examined": len(records),
        "found": len(found),
        "types": types,
        "missing": missing,
    }
    names = {entry["id"]: entry["name"] for entry in types}
    reason = f"{len(found)} of {len(types)} key dataset types found"
    reason += f": {', '.join(names[t] for t in found)}." if found else "."
    if missing:
        reason += f" Missing: {', '.join(names[t] for t in missing)}."
    return [portal_result(TYPES_CHECK, Status.PASS if found else Status.FAIL, value, reason)]


@portal_check(DISAGGREGATED_CHECK)
def disaggregated(records: list[DatasetRecord], context: PortalContext) -> list[CheckResult]:
    """Score = share of tabular datasets (column names known) with a demographic or small-area column."""
    config = cached_key_datasets()
    datasets = [record for record in records if record.is_dataset]
    tabular = [record for record in datasets if is_tabular(record)]
    names = {d.id: d.name for d in config.disaggregation.dimensions}
    counts = {dimension_id: 0 for dimension_id in names}
    examples, split = [], 0
    for record in tabular:
        found = dimensions_found(record, config) or {}
        if not found:
            continue
        split += 1
        for dimension_id in found:
            counts[dimension_id] += 1
        if len(examples) < EVIDENCE_LIMIT:
            examples.append(
                {
                    "dataset_id": record.dataset_id,
                    "title": clean_text(record.title or ""),
                    "dimensions": found,
                }
            )
    share = split / len(tabular) if tabular else None
    value = {
        "score": round(100 * share, 1) if share is not None else None,
        "datasets": len(datasets),
        "tabular": len(tabular),
        "without_columns": sum(1 for record in datasets if record.columns is None),
        "disaggregated": split,
        "share": round(share, 4) if share is not None else None,
        "dimensions": {dimension_id: n for dimension_id, n in counts.items() if n},
        "dimension_names": names,
        "examples": examples,
    }
    if not tabular:
        reason = "No dataset lists its column names on this platform: no evidence either way."
        return [portal_result(DISAGGREGATED_CHECK, Status.NA, value, reason)]
    shown = ", ".join(f"{names[d]} ({n})" for d, n in value["dimensions"].items()) or "none"
    reason = f"{split} of {len(tabular)} tabular datasets are disaggregated; dimensions: {shown}."
    return [portal_result(DISAGGREGATED_CHECK, Status.PASS if split else Status.FAIL, value, reason)]
