"""Metadata completeness checks (METRICS.md "Per-dataset metrics"): is the dataset described?

Each check reads one normalized DatasetRecord, so a dataset scores the same on every platform.
"""

from __future__ import annotations

from datetime import datetime

from wwc_pipeline.model import DatasetRecord
from wwc_pipeline.registry import dataset_check
from wwc_pipeline.results import CheckResult, Status
from wwc_pipeline.text import present, text

COLUMNS_DOCUMENTED_SHARE = 0.8


def result(
    check_id: str, record: DatasetRecord, passed: bool | None, value: object, reason: str
) -> CheckResult:
    """A CheckResult for one dataset; `passed` None means n/a."""
    status = Status.NA if passed is None else (Status.PASS if passed else Status.FAIL)
    return CheckResult(check_id, status, value=value, reason=reason, dataset_id=record.dataset_id)


def present_items(values: list[str] | None) -> list[str]:
    """The texts of the items that are present."""
    return [text(value) for value in values or [] if present(value)]


@dataset_check("has_description")
def has_description(record: DatasetRecord, as_of: datetime) -> CheckResult:
    """A description that only repeats the title says nothing more."""
    description = text(record.description)
    if not description:
        return result("has_description", record, False, 0, "No description.")
    if description.lower() == text(record.title).lower():
        reason = "The description repeats the title."
        return result("has_description", record, False, len(description), reason)
    return result("has_description", record, True, len(description), "Has a description.")


@dataset_check("has_keywords")
def has_keywords(record: DatasetRecord, as_of: datetime) -> CheckResult:
    keywords = present_items(record.keywords)
    if keywords:
        return result("has_keywords", record, True, len(keywords), f"Has {len(keywords)} keyword(s).")
    return result("has_keywords", record, False, 0, "No keywords.")


@dataset_check("has_category")
def has_category(record: DatasetRecord, as_of: datetime) -> CheckResult:
    categories = present_items(record.categories)
    if categories:
        return result("has_category", record, True, categories, f"Category: {', '.join(categories)}.")
    return result("has_category", record, False, [], "No category.")


@dataset_check("has_publisher")
def has_publisher(record: DatasetRecord, as_of: datetime) -> CheckResult:
    publisher = text(record.publisher)
    if publisher:
        return result("has_publisher", record, True, publisher, f"Published by {publisher}.")
    return result("has_publisher", record, False, None, "No publisher.")


@dataset_check("has_contact")
def has_contact(record: DatasetRecord, as_of: datetime) -> CheckResult:
    contact = text(record.contact)
    if contact:
        return result("has_contact", record, True, contact, "Has a contact.")
    return result("has_contact", record, False, None, "No contact.")


@dataset_check("columns_documented")
def columns_documented(record: DatasetRecord, as_of: datetime) -> CheckResult:
    """At least 80% of the columns carry a description; n/a without a column list."""
    if not record.columns:
        reason = "The platform gives no column list." if record.columns is None else "No columns to document."
        return result("columns_documented", record, None, None, reason)
    described = sum(1 for column in record.columns if present(column.description))
    share = described / len(record.columns)
    reason = f"{described} of {len(record.columns)} columns have a description."
    return result("columns_documented", record, share >= COLUMNS_DOCUMENTED_SHARE, share, reason)
