"""Incremental re-scans: a catalog whose every page answers 304 is not harvested again.

The harvest notes each catalog request and its validators (http_conditional.ValidatorLog);
the warehouse keeps them on the snapshot (`harvest_replay`). Next run, before harvesting, the
same requests go out again with If-None-Match / If-Modified-Since: when all answer 304 and the
portal's harvest settings and this code are the same (`harvest_fingerprint`), the previous
snapshot's records are rebuilt from the warehouse and the checks run on them as on a harvest
(in the nightly, possibly in a worker process: the harvest then hands over a `DeferredReplay`,
replay_pool.py). Otherwise, and for portals that send no validators, the catalog is harvested
in full; when that harvest read byte for byte the answers of the previous one, its results are
reused all the same.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from wwc_pipeline import __version__
from wwc_pipeline.http_conditional import PageValidator, ValidatorLog, revalidate
from wwc_pipeline.model import CatalogSnapshot

log = logging.getLogger("wwc_pipeline")
ANSWERS_KEY = "answers"  # harvest_replay: the digest of every document the harvest read (same_answers)


def harvest_fingerprint(portal: Any) -> str:
    """What a harvest's requests depend on besides the answers: the portal's harvest settings and
    this code's version (a new connector may ask other pages or read them differently)."""
    fields = ("platform", "url", "app_token_env", "catalog_path", "max_pages", "max_body_mb")
    settings = {name: getattr(portal, name, None) for name in fields}
    text = json.dumps([settings, __version__], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def replay_of(portal: Any, recorder: ValidatorLog, server_total: int | None) -> dict[str, Any] | None:
    """The pages to revalidate next run (None when they cannot be) and the digest of every answer
    (`same_answers`), or None when neither is known."""
    pages = recorder.validators()
    answers = recorder.answers()
    if pages is None and answers is None:
        return None
    return {
        "fingerprint": harvest_fingerprint(portal),
        "pages": None if pages is None else [page.as_json() for page in pages],
        "server_total": server_total,
        ANSWERS_KEY: answers,
    }


def replay_source(portal: Any, warehouse: Any, city_id: str, run_id: int) -> Any:
    """The portal's previous complete snapshot as a replay reads it (replay_reads.ReplaySource),
    or None: read once per harvest, for the 304 revalidation and the answers' comparison both."""
    if warehouse is None or not hasattr(warehouse, "replay_source"):
        return None
    return warehouse.replay_source(city_id, portal.platform, portal.url, run_id)


def unchanged_snapshot(portal: Any, client: Any, source: Any) -> DeferredReplay | None:
    """The previous snapshot, to be replayed, when every one of its pages answers 304, else None."""
    if source is None or client is None or source.fingerprint != harvest_fingerprint(portal):
        return None
    pages = [PageValidator.from_json(page) for page in source.pages or []]
    deadline = getattr(portal, "harvest_deadline_s", None)
    view = client.for_portal(portal).within(deadline, "the harvest deadline")
    return DeferredReplay(source.snapshot_id) if revalidate(view, pages) else None


def same_answers(portal: Any, snapshot: CatalogSnapshot, warehouse: Any, source: Any) -> CatalogSnapshot:
    """A full harvest that read the very answers of the previous snapshot's (every document's
    bytes, in order, same settings and code) made the same records: it reuses that snapshot's
    results as a 304 replay does (`reused_from`, its notes), though its pages were fetched. For
    portals that send no validators (CKAN's action API), and validators that changed alone."""
    answers = (snapshot.replay or {}).get(ANSWERS_KEY)
    if not answers or source is None:
        return snapshot
    if source.fingerprint != snapshot.replay.get("fingerprint") or source.answers != answers:
        return snapshot
    notes = warehouse.replay_notes(source.snapshot_id)
    if notes is None:
        return snapshot
    log.info("%s: the catalog read as snapshot %s did; its results reused", portal.url, source.snapshot_id)
    snapshot.replay = {**notes, **snapshot.replay}  # its notes (inputs, statuses), this harvest's pages
    snapshot.reused_from = source.snapshot_id
    return snapshot


def harvest_or_reuse(
    portal: Any,
    client: Any,
    warehouse: Any,
    city_id: str,
    run_id: int,
    rebuild: bool = True,
    on_records: Callable[[list[Any], int], None] | None = None,
) -> CatalogSnapshot | DeferredReplay:
    """The previous harvest when the catalog did not change (all pages 304, or the same answers
    to a full harvest), else a full harvest. Without `rebuild`, a catalog whose every page
    answered 304 comes back as a `DeferredReplay` (its records rebuilt where it is evaluated).
    `on_records`: what the full harvest hands each page's records to (`harvest_portal`)."""
    from wwc_pipeline.pipeline import harvest_portal, utc_now

    started = utc_now()
    source = replay_source(portal, warehouse, city_id, run_id)
    replay = unchanged_snapshot(portal, client, source)
    if replay is not None:
        replay.started_at, replay.finished_at = started, utc_now()
        snapshot = replay.rebuilt(warehouse) if rebuild else replay
        if snapshot is not None:
            return snapshot
    return same_answers(portal, harvest_portal(portal, client, on_records), warehouse, source)


@dataclass
class DeferredReplay:
    """Every catalog page of the portal answered 304: its records are snapshot `snapshot_id`'s,
    to be rebuilt from the warehouse by whoever evaluates them (`replay_pool`: a worker process)."""

    snapshot_id: int
    started_at: datetime | None = None
    finished_at: datetime | None = None

    def rebuilt(self, warehouse: Any) -> CatalogSnapshot | None:
        """The snapshot with its records, timed as the revalidation was; None when they cannot be
        rebuilt whole (`Warehouse.reused_snapshot`)."""
        snapshot = warehouse.reused_snapshot(self.snapshot_id)
        if snapshot is not None:
            log.info(
                "%s: every catalog page answered 304; records of snapshot %s reused",
                snapshot.portal,
                self.snapshot_id,
            )
            snapshot.started_at, snapshot.finished_at = self.started_at, self.finished_at
        return snapshot


# Metrics whose result depends on the as-of time as well as on the record: recomputed on every
# run. Every other metric is a function of the dataset version alone (tests/test_incremental_rescan.py
# holds each of them to that), so its results are reused while the versions stay the same.
AS_OF_METRICS = frozenset({"fresh"})
_BOOLS = {"pass": True, "fail": False, "na": None}


def version_metrics() -> tuple[str, ...]:
    """The metrics reused per dataset version."""
    from wwc_pipeline.evaluate import METRIC_NAMES

    return tuple(name for name in METRIC_NAMES if name not in AS_OF_METRICS)


def stored_for(snapshot: CatalogSnapshot, warehouse: Any) -> Any:
    """The version metrics' stored results of the snapshot the records came from (all pages 304),
    or None: evaluate everything."""
    if snapshot.reused_from is None or warehouse is None or not hasattr(warehouse, "stored_results"):
        return None
    from wwc_pipeline.portal_reuse import REUSABLE_CHECKS, answers_only

    others = (*sorted(AS_OF_METRICS), *sorted(REUSABLE_CHECKS))
    return warehouse.stored_results(snapshot.reused_from, version_metrics(), others, answers_only())


def portal_context(
    portal: Any,
    snapshot: CatalogSnapshot,
    *,
    city_id: str,
    run_id: int,
    as_of: Any,
    departments: list[str] | None,
    client: Any,
    warehouse: Any,
    history: Any = None,
    row_validator: Any = None,
) -> tuple[Any, Any]:
    """The portal checks' context for one portal of a run, and what a 304 replay reuses of its
    source (stored_for): one step for `wwc scan` and the national flow. Nothing is reused when
    the run's history matched renames (they rewrite the entries the stored results are about)."""
    from wwc_pipeline import registry
    from wwc_pipeline.results import PortalContext

    context = PortalContext(
        platform=portal.platform,
        portal=portal.domain,
        as_of=as_of,
        departments=departments,
        client=client.for_portal(portal) if client is not None else None,
        connector=registry.get_connector(portal.platform),
        portal_config=portal,
        previous_columns=previous_columns(snapshot, warehouse, city_id, portal, run_id),
        history=history,
        row_validator=row_validator,
    )
    renamed = history is not None and bool(getattr(history, "renames", None))
    return context, None if renamed else stored_for(snapshot, warehouse)


def kept_statuses(outcomes: list[Any], positions: list[int]) -> dict[str, Any] | None:
    """The dataset metrics' statuses of every entry, compact, for the snapshot's `harvest_replay`:
    the next replay reads them instead of every result row (replay_reads.stored_results)."""
    from operator import itemgetter

    from wwc_pipeline.evaluate import METRIC_NAMES
    from wwc_pipeline.warehouse.replay_reads import LETTER_OF_ANSWER, compact_statuses

    entries = sorted(zip(positions, outcomes, strict=True), key=itemgetter(0))
    answers = itemgetter(*METRIC_NAMES)  # the codes straight from the answers: no dict an entry
    try:
        codes = ["".join([LETTER_OF_ANSWER[a] for a in answers(outcome.metrics)]) for _, outcome in entries]
    except KeyError:
        return None  # not every metric answered: the next replay reads the result rows
    return compact_statuses(METRIC_NAMES, [position for position, _ in entries], codes)


def unchanged_as_of_sets(stored: Any, found: dict[int, dict[str, bool | None]]) -> dict[str, int]:
    """The stored sets of the as-of metrics whose status came out the same for every entry
    (position -> metric -> answer now). Such a result is a function of the dataset version and
    its status only (checks/freshness.py: no age in its value or reason), so the same statuses on
    the same versions are the same results: the set is reused and no digest is computed."""
    if stored is None or set(found) != set(stored.statuses):
        return {}
    names = {True: "pass", False: "fail", None: "na"}
    same = {}
    for check_id in sorted(AS_OF_METRICS):
        set_id = stored.other_sets.get(check_id)
        if set_id is not None and all(
            check_id in answers and stored.statuses[position].get(check_id) == names[answers[check_id]]
            for position, answers in found.items()
        ):
            same[check_id] = set_id
    return same


def as_of_answerers() -> dict[str, Any]:
    """as-of metric -> its answer from a dataset's `Freshness`, without building its result
    (value, reason); a metric missing here is always computed in full."""
    from wwc_pipeline.checks.freshness import fresh_answer

    return {"fresh": lambda judged: fresh_answer(judged.status)}


def _answers_only(records: list, as_of: Any, stored: Any) -> list | None:
    """The datasets' evaluations with bare answers when every as-of answer is the stored one (so
    every as-of set is kept and no result of theirs is written), else None."""
    from wwc_pipeline.evaluate import DatasetEvaluation
    from wwc_pipeline.frequency import freshness

    answerers = as_of_answerers()
    if stored is None or not set(answerers) >= AS_OF_METRICS:
        return None
    evaluations, found = [], {}
    for position, record in enumerate(records):
        if record.is_dataset:
            judged = freshness(record, as_of)
            answers = {name: answerers[name](judged) for name in sorted(AS_OF_METRICS)}
            found[position] = answers
            evaluations.append(
                DatasetEvaluation(record, {}, judged.status, judged.age_days, judged.period_days, answers)
            )
    return evaluations if set(unchanged_as_of_sets(stored, found)) == AS_OF_METRICS else None


def evaluate_as_of_metrics(
    records: list, as_of: Any, platform: str, portal: str | None, stored: Any = None
) -> Any:
    """Only the as-of metrics over the dataset records (the others are reused). With `stored`
    (replay_reads.StoredResults) and every as-of answer the stored one, only the answers: their
    results would be the stored ones (unchanged_as_of_sets), so none is built."""
    from wwc_pipeline.evaluate import PortalEvaluation, at_position, evaluate_dataset, metric_checks
    from wwc_pipeline.frequency import aware

    as_of = aware(as_of)
    evaluations = _answers_only(records, as_of, stored)
    if evaluations is None:
        checks = {name: check for name, check in metric_checks().items() if name in AS_OF_METRICS}
        evaluations = [
            at_position(evaluate_dataset(record, as_of, checks), position)
            for position, record in enumerate(records)
            if record.is_dataset
        ]
    return PortalEvaluation(platform, portal, as_of, len(records), len(evaluations), {}, evaluations)


def merged_metrics(found: dict[str, bool | None], stored: dict[str, str] | None) -> dict[str, bool | None]:
    """A dataset's metric answers: computed now, or its version's stored status; metric order."""
    if stored is None:
        return found
    from wwc_pipeline.evaluate import METRIC_NAMES

    return {name: found[name] if name in found else _BOOLS[stored[name]] for name in METRIC_NAMES}


def previous_columns(
    snapshot: CatalogSnapshot, warehouse: Any, city_id: str, portal: Any, run_id: int
) -> Mapping[str, list[str]]:
    """dataset id -> column names in the portal's previous complete snapshot (schema drift). When
    the records are that snapshot's (every page 304), they say it without reading it again."""
    if snapshot.reused_from is None:
        return warehouse.previous_columns(city_id, portal.platform, portal.url, before_run_id=run_id)
    return ReplayColumns(snapshot.records)


class ReplayColumns(Mapping[str, list[str]]):
    """A replay's previous columns: its own records' (each id's first listing), worked out when a
    check first reads them; a steady replay keeps schema drift's set and reads none."""

    def __init__(self, records: list[Any]) -> None:
        self._records = records
        self._columns: dict[str, list[str]] | None = None

    def _built(self) -> dict[str, list[str]]:
        if self._columns is None:
            columns: dict[str, list[str]] = {}
            listed: set[str] = set()
            for record in self._records:
                if record.is_dataset and record.dataset_id not in listed:  # an id's first listing
                    listed.add(record.dataset_id)
                    if record.columns is not None:
                        columns[record.dataset_id] = [column.name for column in record.columns]
            self._columns = columns
        return self._columns

    def __getitem__(self, dataset_id: str) -> list[str]:
        return self._built()[dataset_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._built())

    def __len__(self) -> int:
        return len(self._built())
