"""Criterion scores from check results, by the rules in config/criteria.yaml (CRITERIA.md).

A score is 0-100 with a status, the evidence a reviewer reads, the counts behind it, the worst
datasets, a per-portal breakdown, and the ids of the checks that produced it.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from operator import itemgetter

from wwc_pipeline.config import CriteriaConfig, CriterionConfig
from wwc_pipeline.keydata.scoring import key_datasets_score
from wwc_pipeline.results import CheckResult, Status
from wwc_pipeline.wording import plural

MET, PARTIAL, NOT_MET = "met", "partially met", "not met"
INSUFFICIENT, NOT_ASSESSABLE = "insufficient evidence", "not assessable by scan"
WORST_DATASETS = 10
WARNINGS_IN_EVIDENCE = 3


@dataclass
class DatasetOutcome:
    """One dataset's metric results: metric name -> True (pass) / False (fail) / None (n/a)."""

    dataset_id: str
    title: str | None
    metrics: dict[str, bool | None]


@dataclass
class PortalEvidence:
    """Everything one portal contributed to a city's scores in one run."""

    portal: str
    harvested: bool
    error: str | None = None
    datasets: list[DatasetOutcome] = field(default_factory=list)
    portal_results: dict[str, CheckResult] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # the harvest's anomalies (count, repeats...)


def status_for(score: float | None, criterion: CriterionConfig) -> str:
    if score is None:
        return INSUFFICIENT
    if score >= criterion.met:
        return MET
    if score >= criterion.partial:
        return PARTIAL
    return NOT_MET


def judged(criterion: CriterionConfig, dataset: DatasetOutcome, metric: str) -> tuple[bool | None, str]:
    """A dataset's outcome on a criterion's metric, and by what it was judged (config fallbacks)."""
    fallback = criterion.fallbacks.get(metric)
    if fallback is None:
        return dataset.metrics.get(metric), metric
    if dataset.metrics.get(fallback.unless) is True:
        return dataset.metrics.get(metric), fallback.own_label
    return dataset.metrics.get(fallback.use), fallback.label


@dataclass
class _Judged:
    """A criterion's metrics over a city's datasets, each dataset judged once per metric: what
    the counts, the applicable datasets and the worst datasets are made of."""

    tallies: dict[str, list[int]]  # metric -> [pass, fail, n/a]
    judged_by: dict[str, dict[str, int]]  # metric -> how it was judged -> datasets
    applicable: int
    ranked: list[tuple[int, int, str, DatasetOutcome, list[str]]]  # datasets with a failed metric


def _judge(criterion: CriterionConfig, portals: list[PortalEvidence]) -> _Judged:
    metrics = tuple(criterion.metrics)
    tallies = {metric: [0, 0, 0] for metric in metrics}
    judged_by: dict[str, dict[str, int]] = {metric: {} for metric in metrics}
    applicable = 0
    ranked: list[tuple[int, int, str, DatasetOutcome, list[str]]] = []
    plan = [(m, tallies[m], judged_by[m], m in criterion.fallbacks) for m in metrics]  # looked up once
    for portal in portals:
        for dataset in portal.datasets:
            failed = []
            seen = False
            answers = dataset.metrics
            for metric, tally, hows, has_fallback in plan:  # `judged`, inlined where no fallback
                if has_fallback:
                    outcome, how = judged(criterion, dataset, metric)
                else:
                    outcome, how = answers.get(metric), metric
                if outcome is True:
                    tally[0] += 1
                elif outcome is False:
                    tally[1] += 1
                    failed.append(metric)
                else:
                    tally[2] += 1
                if outcome is not None:
                    seen = True
                    hows[how] = hows.get(how, 0) + 1
            applicable += seen
            if failed:
                ranked.append((-len(failed), len(ranked), portal.portal, dataset, failed))
    return _Judged(tallies, judged_by, applicable, ranked)


def _metric_counts(judgement: _Judged, metric: str, criterion: CriterionConfig) -> dict:
    passed, failed, not_applicable = judgement.tallies[metric]
    share = round(passed / (passed + failed), 4) if passed + failed else None
    counts = {"pass": passed, "fail": failed, "na": not_applicable, "share": share}
    if metric in criterion.fallbacks:
        fallback = criterion.fallbacks[metric]
        judged_by = judgement.judged_by[metric]
        counts["judged_by"] = {
            label: judged_by.get(label, 0) for label in (fallback.own_label, fallback.label)
        }
    return counts


def _metrics_score(criterion: CriterionConfig, judgement: _Judged) -> tuple[float | None, dict]:
    counts = {metric: _metric_counts(judgement, metric, criterion) for metric in criterion.metrics}
    weighted = [
        (counts[m]["share"], w) for m, w in criterion.metrics.items() if counts[m]["share"] is not None
    ]
    counts["applicable_datasets"] = judgement.applicable
    total_weight = sum(weight for _, weight in weighted)
    if not weighted or total_weight <= 0:
        return None, counts
    score = round(100 * sum(share * weight for share, weight in weighted) / total_weight, 1)
    return score, counts


def _worst_datasets(judgement: _Judged) -> list[dict]:
    ranked = heapq.nsmallest(WORST_DATASETS, judgement.ranked, key=itemgetter(0, 1))  # = sorted()[:N]
    return [
        {"portal": url, "dataset_id": d.dataset_id, "title": d.title, "failed": failed}
        for _, _, url, d, failed in ranked
    ]


def _metrics_evidence(criterion: CriterionConfig, counts: dict) -> str:
    parts = []
    for metric in criterion.metrics:
        c = counts[metric]
        if c["share"] is None:
            parts.append(f"{metric}: not applicable to any dataset")
        else:
            verb = "passes" if c["pass"] == 1 else "pass"
            judged = plural(c["pass"] + c["fail"], "dataset")
            text = f"{metric}: {c['pass']} of {judged} {verb} ({100 * c['share']:.1f}%)"
            if "judged_by" in c:
                text += ", judged by " + " and ".join(
                    f"{label} for {n}" for label, n in c["judged_by"].items()
                )
            parts.append(text)
    return "; ".join(parts)


def _portal_checks_score(
    criterion: CriterionConfig, portals: list[PortalEvidence]
) -> tuple[float | None, dict, str, list[str]]:
    """Mean score of the criterion's portal checks, their counts, their reasons, and which failed."""
    scores, reasons, counts, failed = [], [], {}, []
    for portal in portals:
        for check_id in criterion.portal_checks:
            result = portal.portal_results.get(check_id)
            if result is None:
                continue
            value = result.value if isinstance(result.value, dict) else {}
            score = value.get("score")
            counts[f"{portal.portal} {check_id}"] = {"status": result.status.value, "score": score}
            if result.reason:
                reasons.append(result.reason if len(portals) == 1 else f"{portal.portal}: {result.reason}")
            if score is not None and result.status is not Status.NA:
                scores.append(float(score))
            if result.status is Status.FAIL:
                failed.append(f"{check_id} on {portal.portal}")
    score = round(sum(scores) / len(scores), 1) if scores else None
    return score, counts, " ".join(reasons), failed


def _warnings_note(portals: list[PortalEvidence]) -> str:
    """The harvest warnings behind a score, short: a reviewer reads them beside every criterion."""
    notes = []
    for portal in portals:
        if portal.warnings:
            shown = "; ".join(portal.warnings[:WARNINGS_IN_EVIDENCE])
            more = (
                f" (+{len(portal.warnings) - WARNINGS_IN_EVIDENCE} more)"
                if len(portal.warnings) > WARNINGS_IN_EVIDENCE
                else ""
            )
            notes.append(f"Harvest warnings on {portal.portal}: {shown}{more}.")
    return " ".join(notes)


def thresholds(criterion: CriterionConfig) -> dict:
    """The rules a score is judged by, stored with it so an old run shows the cut-offs of its day."""
    rules: dict = {
        "kind": criterion.kind,
        "met": criterion.met,
        "partial": criterion.partial,
        "min_datasets": criterion.min_datasets,
        "met_requires_pass": criterion.met_requires_pass,
        "weights": dict(criterion.metrics),
    }
    if criterion.kind == "key_datasets":
        rules.update(key_measure=criterion.key_measure, found_credit=criterion.found_credit)
    return rules


def score_criterion(criterion: CriterionConfig, portals: list[PortalEvidence]) -> dict:
    """One criterion's score row for a city (all its portals together), with a per-portal breakdown."""
    row = {
        "thresholds": thresholds(criterion),
        "criterion_id": criterion.id,
        "component": criterion.component,
        "current": list(criterion.current),
        "title": criterion.title,
        "score": None,
        "status": NOT_ASSESSABLE,
        "evidence": "Needs evidence no portal holds (budgets, evaluations, decisions).",
        "counts": {},
        "worst_datasets": [],
        "portal_breakdown": {},
        "check_ids": list(
            dict.fromkeys(
                [*criterion.metrics, *[m for f in criterion.fallbacks.values() for m in (f.use, f.unless)]]
            )
        )
        + list(criterion.portal_checks),
    }
    if criterion.kind == "not_assessable":
        return row
    harvested = [p for p in portals if p.harvested]
    failed = [p for p in portals if not p.harvested]
    failures = "; ".join(f"{p.portal} could not be harvested: {p.error}" for p in failed)
    if not harvested:
        row.update(status=INSUFFICIENT, evidence=failures or "No portal configured.")
        return row
    if criterion.kind == "metrics":
        judgement = _judge(criterion, harvested)  # each dataset judged once per metric
        score, counts = _metrics_score(criterion, judgement)
        evidence = _metrics_evidence(criterion, counts)
        enough = counts["applicable_datasets"] >= criterion.min_datasets
        status = status_for(score, criterion) if enough else INSUFFICIENT
        if not enough:
            applicable = counts["applicable_datasets"]
            evidence += f" (only {plural(applicable, 'applicable dataset')}; {criterion.min_datasets} needed)"
        row["worst_datasets"] = _worst_datasets(judgement)
    elif criterion.kind == "key_datasets":
        score, counts, evidence = key_datasets_score(criterion, harvested)
        status = status_for(score, criterion)
    else:
        score, counts, evidence, failed_checks = _portal_checks_score(criterion, harvested)
        status = status_for(score, criterion)
        if status == MET and criterion.met_requires_pass and failed_checks:
            status = PARTIAL
            evidence += f" Not met while a check fails: {', '.join(failed_checks)}."
    if failures:
        evidence = f"{evidence} Partial evidence: {failures}".strip()
    if note := _warnings_note(harvested):
        evidence = f"{evidence} {note}".strip()
    row.update(score=score, status=status, evidence=evidence, counts=counts)
    if len(portals) > 1:
        for portal in portals:
            single = score_criterion(criterion, [portal])
            row["portal_breakdown"][portal.portal] = {"score": single["score"], "status": single["status"]}
    return row


def score_city(criteria: CriteriaConfig, portals: list[PortalEvidence]) -> list[dict]:
    """Every configured criterion's score row for one city in one run."""
    return [score_criterion(criterion, portals) for criterion in criteria.criteria]
