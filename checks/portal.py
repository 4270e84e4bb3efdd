"""Portal-level signals (CRITERIA.md): does the catalog show a policy, an inventory, a maintained
catalog? (Performance and procurement data are key dataset types: checks/key_datasets.py.)

A signal is a set of whole-word phrases matched on normalized text (lower-cased, every run of
non-letters/digits one space). Phrases that are only telling as a label are matched in titles
and categories only; the specific ones are matched in descriptions too. Keywords are not read
(portals tag too freely).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from wwc_pipeline.model import DatasetRecord
from wwc_pipeline.registry import portal_check
from wwc_pipeline.results import CheckResult, PortalContext, Status
from wwc_pipeline.text import clean_text
from wwc_pipeline.wording import plural

EVIDENCE_LIMIT = 10  # matched datasets listed in a result's value
YEAR_DAYS = 365
DEPARTMENT_BAR = 0.8  # WWC DM2: the inventory covers datasets of more than 80 % of departments
PASS_SCORE = 80.0  # a share-based portal check passes at the WWC 80 % bar


def normalize(value: str | None) -> str:
    """Lower-cased text with every run of non-letters/digits as one space."""
    return " ".join(re.sub(r"[\W_]+", " ", clean_text(value or "").lower()).split())


def portal_result(check_id: str, status: Status, value: dict, reason: str) -> CheckResult:
    """The one portal-level result of a check (`value` always holds "score")."""
    return CheckResult(check_id, status, value=value, reason=reason)


def status_for_score(score: float | None) -> Status:
    if score is None:
        return Status.NA
    return Status.PASS if score >= PASS_SCORE else Status.FAIL


def age_days(as_of: datetime, moment: datetime) -> float:
    return (as_of - moment).total_seconds() / 86400


@dataclass(frozen=True)
class Signal:
    anywhere: tuple[str, ...]  # specific phrases: matched in title, categories and description
    labels: tuple[str, ...] = ()  # telling only as a label: title and categories
    category_only: tuple[str, ...] = ()  # telling only as a curated category ("Performance")

    def search(self, record: DatasetRecord) -> tuple[str, str] | None:
        """(field, matched phrase) of the first match, title first; None when none.

        Keywords are not read: portals tag freely ("rfp" on every scooter-share dataset).
        """
        fields = (
            ("title", normalize(record.title), self.anywhere + self.labels),
            (
                "categories",
                normalize(" | ".join(record.categories)),
                self.anywhere + self.labels + self.category_only,
            ),
            ("description", normalize(record.description), self.anywhere),
        )
        for field_name, value, patterns in fields:
            for pattern in patterns:
                found = re.search(pattern, value)
                if found:
                    return field_name, found.group(0)
        return None


POLICY = Signal(
    anywhere=(
        r"\bopen data (?:polic(?:y|ies)|ordinance|executive order|directive|law|legislation|resolution)\b",
        r"\bdata (?:governance )?polic(?:y|ies)\b",
        r"\bopen government (?:polic(?:y|ies)|directive|ordinance)\b",
    ),
)
INVENTORY_TITLES = (
    r"\b(?:open data|data|datasets?)\b(?: \w+){0,3} (?:inventory|catalog|catalogue)\b",
    r"\b(?:inventory|catalog|catalogue) of\b(?: \w+){0,4} (?:data|datasets?)\b",
    r"^(?:site analytics )?asset inventory\b",
)


def find_signal(records: list[DatasetRecord], signal: Signal) -> list[dict]:
    """Every record matching a signal, as evidence rows; title matches listed first."""
    rank = {"title": 0, "categories": 1, "description": 2}
    matches = []
    for record in records:
        found = signal.search(record)
        if found:
            matches.append(
                {
                    "dataset_id": record.dataset_id,
                    "title": clean_text(record.title or ""),
                    "field": found[0],
                    "phrase": found[1],
                }
            )
    return sorted(matches, key=lambda match: rank[match["field"]])


def signal_result(
    check_id: str, records: list[DatasetRecord], signal: Signal, what: str
) -> list[CheckResult]:
    """Score 100 when at least one asset shows the signal, 0 when none does, n/a without records."""
    if not records:
        value = {"score": None, "found": 0, "examined": 0, "matches": []}
        return [portal_result(check_id, Status.NA, value, "No catalog entries to examine.")]
    matches = find_signal(records, signal)
    value = {
        "score": 100.0 if matches else 0.0,
        "found": len(matches),
        "examined": len(records),
        "matches": matches[:EVIDENCE_LIMIT],
    }
    if not matches:
        return [
            portal_result(
                check_id,
                Status.FAIL,
                value,
                f"No catalog entry about {what} ({plural(len(records), 'catalog entry')} examined).",
            )
        ]
    first = matches[0]
    reason = f"{plural(len(matches), 'catalog entry')} about {what}, e.g. {first['title']!r}."
    return [portal_result(check_id, Status.PASS, value, reason)]


@portal_check("portal.policy_document")
def policy_document(records: list[DatasetRecord], context: PortalContext) -> list[CheckResult]:
    """COMMIT-OD-POLICY: an asset about the city's open-data policy (a page, document or dataset)."""
    return signal_result("portal.policy_document", records, POLICY, "an open-data policy")


_INVENTORY_TITLE = re.compile("|".join(f"(?:{pattern})" for pattern in INVENTORY_TITLES))
_INVENTORY_WORDS = ("inventory", "catalog")  # one of them is in every title the patterns match


def inventory_title(title: str | None) -> bool:
    """Whether a title, normalized, names an inventory. A title without a tag or an entity keeps
    its letters through `normalize` (lower-cased), so one that holds neither word is not
    normalized at all: this runs on every entry of every run."""
    lowered = (title or "").lower()
    if "<" not in lowered and "&" not in lowered and not any(w in lowered for w in _INVENTORY_WORDS):
        return False
    return _INVENTORY_TITLE.search(normalize(title)) is not None


def find_inventory(records: list[DatasetRecord], as_of: datetime) -> dict:
    """The inventory part: the most recently updated inventory asset and its age."""
    candidates = [r for r in records if inventory_title(r.title)]
    if not candidates:
        return {"found": False, "score": 0.0, "candidates": 0}

    def updated(record: DatasetRecord) -> datetime | None:
        return record.data_modified_at or record.metadata_modified_at

    dated = [r for r in candidates if updated(r) is not None]
    best = max(dated, key=updated) if dated else candidates[0]
    moment = updated(best)
    age = age_days(as_of, moment) if moment else None
    recent = age is not None and age <= YEAR_DAYS
    return {  # no age: the value stays the same from run to run while the inventory does
        "found": True,
        "score": 100.0 if recent else 50.0,
        "candidates": len(candidates),
        "dataset_id": best.dataset_id,
        "title": clean_text(best.title or ""),
        "updated_at": moment.isoformat() if moment else None,
        "recent_until": (moment + timedelta(days=YEAR_DAYS)).isoformat() if moment else None,
        "updated_within_year": recent,
    }


def department_matches(department: str, publishers: set[str]) -> bool:
    """A department publishes when a publisher text equals it or holds it as whole words."""
    name = normalize(department)
    return bool(name) and any(re.search(rf"\b{re.escape(name)}\b", publisher) for publisher in publishers)


def department_coverage(datasets: list[DatasetRecord], departments: list[str] | None) -> dict:
    """The departments part: distinct publishers, and the share of configured departments among them."""
    texts = {r.publisher for r in datasets}  # each distinct text normalized once
    publishers = {normalize(text) for text in texts} - {""}
    part: dict[str, Any] = {"distinct_publishers": len(publishers)}
    by_name = {normalize(d): d for d in reversed(departments or [])}  # first spelling of each name kept
    configured = [by_name[name] for name in dict.fromkeys(normalize(d) for d in departments or []) if name]
    if not configured:
        return part | {"configured": 0, "score": None}
    covered = [d for d in configured if department_matches(d, publishers)]
    missing = [d for d in configured if d not in covered]
    share = len(covered) / len(configured)
    return part | {
        "configured": len(configured),
        "covered": len(covered),
        "share": round(share, 4),
        "meets_80_percent": share >= DEPARTMENT_BAR,
        "score": round(100 * share, 1),
        "missing": missing[:EVIDENCE_LIMIT],
    }


@portal_check("portal.inventory")
def inventory(records: list[DatasetRecord], context: PortalContext) -> list[CheckResult]:
    """TAKESTOCK-INVENTORY: an inventory updated in 12 months, covering 80 % of departments."""
    check_id = "portal.inventory"
    if not records:
        value = {"score": None, "inventory": None, "departments": None}
        return [portal_result(check_id, Status.NA, value, "No catalog entries to examine.")]
    found = find_inventory(records, context.as_of)
    departments = department_coverage([r for r in records if r.is_dataset], context.departments)
    parts = [found["score"]] + ([departments["score"]] if departments["score"] is not None else [])
    score = round(sum(parts) / len(parts), 1)
    value = {"score": score, "inventory": found, "departments": departments}
    if found["found"]:
        when = "last update unknown" if found["updated_at"] is None else f"updated {found['updated_at'][:10]}"
        said = f"Inventory {found['title']!r} ({when})"
    else:
        said = "No dataset inventory found"
    if departments["score"] is None:
        said += f"; {departments['distinct_publishers']} distinct publishers, no department list configured."
    else:
        said += (
            f"; {departments['covered']} of {departments['configured']} configured departments "
            f"publish datasets ({departments['score']:.0f}%)."
        )
    passed = found.get("updated_within_year") and (
        departments["score"] is None or departments["meets_80_percent"]
    )
    return [portal_result(check_id, Status.PASS if passed else Status.FAIL, value, said)]


@portal_check("portal.catalog_activity")
def catalog_activity(records: list[DatasetRecord], context: PortalContext) -> list[CheckResult]:
    """TAKESTOCK-ACTIVITY: share of datasets updated, and number created, in the past 365 days."""
    check_id = "portal.catalog_activity"
    datasets = [r for r in records if r.is_dataset]
    updated = [age_days(context.as_of, r.data_modified_at) for r in datasets if r.data_modified_at]
    created = [age_days(context.as_of, r.created_at) for r in datasets if r.created_at]
    recent_updates = sum(1 for age in updated if age <= YEAR_DAYS)
    recent_creations = sum(1 for age in created if age <= YEAR_DAYS)
    share = recent_updates / len(updated) if updated else None
    value = {
        "score": round(100 * share, 1) if share is not None else None,
        "datasets": len(datasets),
        "with_last_update": len(updated),
        "updated_last_365_days": recent_updates,
        "share_updated_365_days": round(share, 4) if share is not None else None,
        "with_created": len(created),
        "created_last_365_days": recent_creations,
    }
    if share is None:
        return [portal_result(check_id, Status.NA, value, "No dataset gives a last update time.")]
    reason = (
        f"{recent_updates} of {len(updated)} datasets with a last update were updated in the past "
        f"365 days; {recent_creations} created in that time."
    )
    return [portal_result(check_id, status_for_score(value["score"]), value, reason)]
