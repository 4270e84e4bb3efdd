"""Licence checks (METRICS.md "Licences"): is a licence stated, and is it an open one?

Licences arrive as names, ids, links and HTML badges, so the open test reads the raw strings
with their HTML kept (a link to creativecommons.org counts) and asks for a known open licence
and no non-commercial or no-derivatives restriction.
"""

from __future__ import annotations

import html
import re
from datetime import datetime

from wwc_pipeline.checks.metadata import result

from wwc_pipeline.model import DatasetRecord
from wwc_pipeline.registry import dataset_check
from wwc_pipeline.results import CheckResult
from wwc_pipeline.text import text

NOT_GIVEN = frozenset(
    {"", "notspecified", "not specified", "license not specified", "other", "none", "unknown", "n/a", "null"}
)
OPEN_PATTERNS = [
    r"\bcc0\b",
    r"\bcc[ _-]?zero\b",
    r"\bpublic[ _-]?domain\b",
    r"\bus[ _-]pd\b",
    r"\bcc[ _-]?by\b",
    r"creative ?commons[ _-]attribution",
    r"creative ?commons[ _-](1\.0 )?universal",
    r"creativecommons\.org/(licenses/by|publicdomain)",
    r"\bodc[ _-]?(pddl|by|odbl)\b",
    r"\bodbl\b",
    r"opendatacommons\.org/licenses/(pddl|by|odbl)",
    r"open data commons (public domain|attribution|open database)",
    r"open government licen[cs]e",
    r"licence ouverte",
    r"\betalab\b",
]
RESTRICTED_PATTERNS = [r"\bnc\b", r"non[ _-]?commercial", r"\bnd\b", r"no[ _-]?deriv"]
_OPEN = [re.compile(pattern, re.IGNORECASE) for pattern in OPEN_PATTERNS]
_RESTRICTED = [re.compile(pattern, re.IGNORECASE) for pattern in RESTRICTED_PATTERNS]


def is_given(field: str | None) -> bool:
    """A licence field says something: its text is not empty nor a placeholder."""
    return text(field).lower() not in NOT_GIVEN


def given_fields(record: DatasetRecord) -> list[str]:
    return [field for field in record.license_fields if is_given(field)]


def licence_string(fields: list[str]) -> str:
    """The given fields' raw strings, HTML kept, entities unescaped, white space collapsed."""
    return " | ".join(" ".join(html.unescape(field).split()) for field in fields)


def is_open(licence: str) -> bool:
    """At least one open pattern and no restricted pattern."""
    return any(p.search(licence) for p in _OPEN) and not any(p.search(licence) for p in _RESTRICTED)


@dataset_check("has_license")
def has_license(record: DatasetRecord, as_of: datetime) -> CheckResult:
    fields = given_fields(record)
    if fields:
        return result("has_license", record, True, licence_string(fields), "A licence is stated.")
    return result("has_license", record, False, None, "No licence is stated.")


@dataset_check("open_license")
def open_license(record: DatasetRecord, as_of: datetime) -> CheckResult:
    fields = given_fields(record)
    if not fields:
        return result("open_license", record, None, None, "No licence is stated.")
    licence = licence_string(fields)
    if is_open(licence):
        return result("open_license", record, True, licence, "The stated licence is an open licence.")
    return result("open_license", record, False, licence, "The stated licence is not a known open licence.")
