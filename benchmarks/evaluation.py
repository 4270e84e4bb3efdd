"""Evaluation: `evaluate_records` (every METRICS.md metric) against just normalizing the records.

The baseline is the cheapest thing the pipeline must do anyway: `records_from_document` over the
Discovery pages a simulated portal serves. The ratio says what the metrics cost per dataset on top of
reading the catalog. Scaling: the same records repeated to 4N (fresh ids, same mix of content)
should take about 4 times as long; much more would mean some step is quadratic. The same runs
with the garbage collector off tell the algorithm's scaling from the collector's, whose full
passes walk every live object and so cost more as the heap grows.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from wwc_pipeline.connectors import socrata

from benchmarks.common import interleaved, ratio, without_gc
from wwc_pipeline.evaluate import evaluate_records, metric_checks
from wwc_pipeline.model import DatasetRecord
from wwc_pipeline.simulator import GeneratedCatalog, socrata_shapes
from wwc_pipeline.simulator.common import Site

SCALE = 4
PAGE = 1000
PORTAL = "data.springfield.example.gov"


def served_documents(size: int, seed: int) -> tuple[list[Any], str, Any]:
    """The Discovery pages (1000 results each) of a generated catalog of `size` datasets, and its as-of.

    Rendered with the simulator's own Socrata shapes, without HTTP: this benchmark times
    normalizing and evaluating, and must see every dataset whatever the paging does.
    """
    catalog = GeneratedCatalog(size=size, seed=seed)
    site = Site(f"http://{PORTAL}", catalog.name)
    results = [socrata_shapes.discovery(entry, site) for entry in catalog.entries]
    documents = [
        {"results": results[start : start + PAGE], "resultSetSize": len(results)}
        for start in range(0, len(results), PAGE)
    ]
    return documents, PORTAL, catalog.as_of


def normalize(documents: list[Any], portal: str) -> list[DatasetRecord]:
    return [record for document in documents for record in socrata.records_from_document(document, portal)]


def unique_by_id(records: list[DatasetRecord]) -> list[DatasetRecord]:
    seen: dict[str, DatasetRecord] = {}
    for record in records:
        seen.setdefault(record.dataset_id, record)
    return list(seen.values())


def scaled(records: list[DatasetRecord], times: int) -> list[DatasetRecord]:
    """`times` copies of the records, each copy with its own dataset ids."""
    copies = list(records)
    for copy in range(1, times):
        copies.extend(dataclasses.replace(r, dataset_id=f"{r.dataset_id}~{copy}") for r in records)
    return copies


def run(size: int, repeat: int, seed: int = 1) -> dict[str, Any]:
    documents, portal, as_of = served_documents(size, seed)
    records = unique_by_id(normalize(documents, portal))
    bigger = scaled(records, SCALE)
    metric_checks()  # the first call imports the checks (and Great Expectations): not timed

    def evaluate_n() -> Any:
        return evaluate_records(records, as_of, "socrata", portal)

    def evaluate_4n() -> Any:
        return evaluate_records(bigger, as_of, "socrata", portal)

    timings = interleaved(
        repeat,
        keep=_summary,
        runs={
            "normalize": lambda: normalize(documents, portal),
            "evaluate": evaluate_n,
            "evaluate_4n": evaluate_4n,
            "evaluate_gc_off": without_gc(evaluate_n),
            "evaluate_4n_gc_off": without_gc(evaluate_4n),
        },
    )
    normalized, evaluated, evaluated_4n = (timings[name] for name in ("normalize", "evaluate", "evaluate_4n"))
    gc_off, gc_off_4n = timings["evaluate_gc_off"], timings["evaluate_4n_gc_off"]
    assets, datasets = normalized.result["assets"], evaluated.result["datasets"]
    per_asset_normalize = normalized.median / max(1, assets)
    per_dataset_evaluate = evaluated.median / max(1, datasets)
    result = {
        "size": size,
        "normalize": {**normalized.as_dict(), "assets": assets, "pages": len(documents)},
        "evaluate": {
            **evaluated.as_dict(),
            "datasets": datasets,
            "per_dataset_ms": round(per_dataset_evaluate * 1000, 4),
        },
        "evaluate_4n": {**evaluated_4n.as_dict(), "datasets": evaluated_4n.result["datasets"]},
        "evaluate_gc_off": gc_off.as_dict(),
        "evaluate_4n_gc_off": gc_off_4n.as_dict(),
        "ratios": {
            "per_dataset_evaluate_over_normalize": ratio(per_dataset_evaluate, per_asset_normalize),
            "time_4n_over_n": ratio(evaluated_4n.median, evaluated.median),
            "time_4n_over_n_gc_off": ratio(gc_off_4n.median, gc_off.median),
            "gc_share_n": ratio(evaluated.median - gc_off.median, evaluated.median),
            "gc_share_4n": ratio(evaluated_4n.median - gc_off_4n.median, evaluated_4n.median),
        },
        "metrics_match_4x": _counts_scale(evaluated.result["metrics"], evaluated_4n.result["metrics"], SCALE),
    }
    return result


def _summary(result: Any) -> dict[str, Any]:
    """What is kept of a run: counts, never the records or evaluations themselves."""
    if isinstance(result, list):
        return {"assets": len(result)}
    return {"datasets": result.datasets, "metrics": result.metrics}


def _counts_scale(small: dict, big: dict, factor: int) -> bool:
    """Every pass/fail/na count of the 4N run is exactly 4 times the N run's (same records, 4 times)."""
    return all(
        big[name][key] == factor * small[name][key]
        for name in small
        if name != "freshness"
        for key in ("pass", "fail", "na")
    )
