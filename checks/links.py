"""Link checks (MEASURE-OD-ACCESS): do the published download, API and landing-page links answer?

A deterministic sample (datasets sorted by id, the first N with an http(s) link) is probed with
the shared client's `probe`, which never raises, `per_host` at a time (fetch_ahead.py), the
answers read in the sample's order. 2xx and 3xx answers count as reachable.

The client is the portal's own view (`for_portal`): a link to an internal address (loopback,
private, link-local...) other than the portal's host is not probed at all. It is recorded as
refused, with no status, and counts as not reachable: the public cannot reach it either.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from wwc_pipeline.checks.portal import EVIDENCE_LIMIT, portal_result, status_for_score

from wwc_pipeline.fetch_ahead import fetched_ahead, width_for
from wwc_pipeline.model import DatasetRecord
from wwc_pipeline.registry import portal_check
from wwc_pipeline.results import CheckResult, PortalContext, Status
from wwc_pipeline.text import clean_text

CHECK_ID = "links.reachable"
DEFAULT_LINKS = 20


def is_web_url(url: str | None) -> bool:
    if not url:
        return False
    parts = urlsplit(url.strip())
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def link_of(record: DatasetRecord) -> str | None:
    """The dataset's first http(s) distribution URL, else its landing page; None when neither."""
    for distribution in record.distributions:
        if is_web_url(distribution.url):
            return distribution.url.strip()
    return record.landing_page.strip() if is_web_url(record.landing_page) else None


def links_to_probe(records: list[DatasetRecord], limit: int) -> list[tuple[DatasetRecord, str]]:
    """(dataset, link) for the first `limit` datasets, sorted by id, that have a link."""
    chosen = []
    for record in sorted((r for r in records if r.is_dataset), key=lambda r: r.dataset_id):
        if len(chosen) >= limit:
            break
        link = link_of(record)
        if link:
            chosen.append((record, link))
    return chosen


def is_reachable(status: int | None) -> bool:
    return status is not None and 200 <= status < 400


def answer_text(status: int | None, error: str | None) -> str:
    if status is not None:
        return f"HTTP {status}"
    return error or "no answer"


def _what_happened(answer: dict, verb: str = "is broken:") -> str:
    """`is broken: HTTP 404`, or `was not probed: <host> is not a public address (loopback)`."""
    if answer.get("refused"):
        return f"was {answer['error']}"
    return f"{verb} {answer_text(answer['status'], answer['error'])}"


def refusal_text(error: str | None) -> str:
    """`HEAD <url> failed: refused, not contacted: <host> is not a public address (loopback)`
    -> `not probed: <host> is not a public address (loopback)`."""
    reason = (error or "").rpartition("not contacted: ")[2]
    return f"not probed: {reason or 'not a public address'}"


def _probes_links(context: PortalContext) -> bool:
    config = context.portal_config
    return context.client is not None and (
        config is None or getattr(config, "check_links", DEFAULT_LINKS) > 0
    )


@portal_check(CHECK_ID, waits_on_portal=_probes_links)
def links_reachable(records: list[DatasetRecord], context: PortalContext) -> list[CheckResult]:
    """Score = 100 x the share of probed links that answer 2xx/3xx; one result per probed dataset."""
    config = context.portal_config
    limit = getattr(config, "check_links", DEFAULT_LINKS) if config is not None else DEFAULT_LINKS
    empty = {"score": None, "probed": 0, "reachable": 0, "broken_count": 0, "broken": []}
    if context.client is None:
        return [
            portal_result(CHECK_ID, Status.NA, empty, "Links not probed: no network client (offline run).")
        ]
    if limit <= 0:
        return [portal_result(CHECK_ID, Status.NA, empty, "Link probing is turned off (check_links: 0).")]
    chosen = links_to_probe(records, limit)
    if not chosen:
        return [portal_result(CHECK_ID, Status.NA, empty, "No dataset has an http(s) link to probe.")]
    client = context.client
    if config is not None and hasattr(client, "for_portal"):
        client = client.for_portal(config)  # the portal's host trusted, every other one vetted
    per_dataset, broken = [], []
    probes = fetched_ahead(chosen, lambda pair: client.probe(pair[1]), width_for(client))
    for (record, link), probe in probes:
        status, error = probe.status, probe.error
        answer = {"url": link, "status": status, "error": None if status is not None else error}
        if getattr(probe, "refused", False):
            answer["refused"] = True
        if is_reachable(status):
            per_dataset.append(
                CheckResult(
                    CHECK_ID,
                    Status.PASS,
                    answer,
                    f"{link} answers {answer_text(status, error)}.",
                    dataset_id=record.dataset_id,
                )
            )
            continue
        if answer.get("refused"):
            answer["error"] = refusal_text(error)
        broken.append({"dataset_id": record.dataset_id, "title": clean_text(record.title or "")} | answer)
        per_dataset.append(
            CheckResult(
                CHECK_ID,
                Status.FAIL,
                answer,
                f"{link} {_what_happened(answer)}.",
                dataset_id=record.dataset_id,
            )
        )
    reachable = len(chosen) - len(broken)
    score = round(100 * reachable / len(chosen), 1)
    value = {
        "score": score,
        "probed": len(chosen),
        "reachable": reachable,
        "broken_count": len(broken),
        "limit": limit,
        "broken": broken[:EVIDENCE_LIMIT],
    }
    reason = f"{reachable} of {len(chosen)} probed dataset links answer (2xx/3xx)."
    if broken:
        reason = reason[:-1] + f"; e.g. {broken[0]['url']} {_what_happened(broken[0], verb='gave')}."
    return [portal_result(CHECK_ID, status_for_score(score), value, reason), *per_dataset]
