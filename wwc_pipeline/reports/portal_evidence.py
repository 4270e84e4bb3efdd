"""Portal-level checks as evidence a reviewer reads: facts, links and small tables, not raw JSON.

Each known check has a reader that turns its stored value into `facts` (label, text, link) and
at most one `table`; an unknown check shows its plain scalar values, and anything nested under
a collapsed "stored value" (cut). Links are http(s) only; catalog text is cut (full in JSON).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from wwc_pipeline.reports.keydata import web_link
from wwc_pipeline.reports.summary import format_time, to_jsonable
from wwc_pipeline.wording import plural

TEXT_LIMIT = 160  # characters of catalog text (titles, ids) shown in the page
RAW_LIMIT = 2000  # characters of an unknown check's stored value
ROWS_LIMIT = 50  # rows of a check's evidence table
STATUS_CLASS = {"pass": "pass", "fail": "fail", "na": "na"}


def cut(text: Any, limit: int = TEXT_LIMIT) -> str:
    """Catalog text for the page: one line, at most `limit` characters (an ellipsis says it was cut)."""
    text = " ".join(str("" if text is None else text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _fact(label: str, text: Any, link: str | None = None) -> dict[str, Any]:
    inside = link if isinstance(link, str) and link.startswith("#") else None  # a section of the page
    return {"label": label, "text": cut(text, 400), "link": inside or web_link(link)}


def _days_between(later: Any, earlier: Any) -> int | None:
    try:
        return (datetime.fromisoformat(str(later)) - datetime.fromisoformat(str(earlier))).days
    except (TypeError, ValueError):
        return None


def _yes(value: Any) -> str:
    return {True: "yes", False: "no"}.get(value, "unknown")


def _http(answer: Mapping) -> str:
    if answer.get("status") is not None:
        return f"HTTP {answer['status']}"
    return cut(answer.get("error") or "no answer", 120)


def _harvest(value: Mapping, ctx: Mapping) -> tuple[list, dict | None]:
    facts = [_fact("Assets listed", value.get("assets")), _fact("Datasets among them", value.get("datasets"))]
    return facts, None


def _signal(value: Mapping, ctx: Mapping) -> tuple[list, dict | None]:
    facts = [
        _fact("Catalog entries examined", value.get("examined")),
        _fact("Entries found", value.get("found")),
    ]
    rows = [
        [
            {"text": cut(m.get("title")), "link": ctx["links"].get(m.get("dataset_id"))},
            {"text": cut(m.get("dataset_id"), 80)},
            {"text": f"{m.get('field')}: “{cut(m.get('phrase'), 80)}”"},
        ]
        for m in value.get("matches") or []
    ]
    table = {"headers": ["Document", "Id", "Matched in"], "rows": rows[:ROWS_LIMIT]} if rows else None
    return facts, table


def _inventory(value: Mapping, ctx: Mapping) -> tuple[list, dict | None]:
    inventory = value.get("inventory") or {}
    departments = value.get("departments") or {}
    facts = []
    if inventory.get("found"):
        link = ctx["links"].get(inventory.get("dataset_id"))
        facts.append(_fact("Inventory dataset", inventory.get("title") or inventory.get("dataset_id"), link))
        updated = inventory.get("updated_at")
        age = _days_between(ctx["as_of"], updated)
        age_text = f" ({plural(age, 'day')} before the run)" if age is not None else ""
        facts.append(_fact("Last updated", f"{format_time(updated)[:10]}{age_text}"))
        facts.append(_fact("Updated within 12 months", _yes(inventory.get("updated_within_year"))))
    else:
        facts.append(_fact("Inventory dataset", "none found"))
    facts.append(_fact("Candidates examined", inventory.get("candidates")))
    facts.append(_fact("Distinct publishing departments", departments.get("distinct_publishers")))
    configured = departments.get("configured")
    facts.append(_fact("Departments configured", configured if configured else "none (no 80 % bar applied)"))
    return facts, None


def _links(value: Mapping, ctx: Mapping) -> tuple[list, dict | None]:
    facts = [
        _fact("Links probed", f"{value.get('probed')} (at most {value.get('limit')})"),
        _fact("Answering (2xx/3xx)", value.get("reachable")),
        _fact("Broken", value.get("broken_count")),
    ]
    rows = []
    for dataset in ctx["datasets"]:
        answer = (dataset.get("values") or {}).get("links.reachable")
        if isinstance(answer, Mapping) and answer.get("url"):
            status = (dataset.get("checks") or {}).get("links.reachable")
            rows.append(
                [
                    {"text": cut(dataset.get("title")), "link": web_link(dataset.get("landing_page"))},
                    {"text": cut(answer.get("url"), 120), "link": web_link(answer.get("url"))},
                    {"text": _http(answer), "css": STATUS_CLASS.get(status, "")},
                ]
            )
    rows.sort(key=lambda row: row[2].get("css") != "fail")
    table = {"headers": ["Dataset", "Probed link", "Answer"], "rows": rows[:ROWS_LIMIT]} if rows else None
    return facts, table


def _activity(value: Mapping, ctx: Mapping) -> tuple[list, dict | None]:
    facts = [
        _fact("Datasets with a last update", value.get("with_last_update")),
        _fact("Updated in the past 365 days", value.get("updated_last_365_days")),
        _fact("Created in the past 365 days", value.get("created_last_365_days")),
    ]
    return facts, None


def _quality(value: Mapping, ctx: Mapping) -> tuple[list, dict | None]:
    samples = [d for d in value.get("datasets") or [] if isinstance(d, Mapping)]
    facts = [
        _fact("Datasets sampled", len(samples)),
        _fact("With no defect in their rows", value.get("clean")),
    ]
    rows = [
        [
            {"text": cut(d.get("title")), "link": ctx["links"].get(d.get("dataset_id"))},
            {"text": str(d.get("rows", "—"))},
            {
                "text": ", ".join(d.get("defects") or []) or "none",
                "css": "fail" if d.get("defects") else "pass",
            },
        ]
        for d in samples
    ]
    rows.sort(key=lambda row: row[2]["css"] != "fail")
    table = {"headers": ["Sampled dataset", "Rows read", "Defects found"], "rows": rows[:ROWS_LIMIT]}
    return facts, table if rows else None


def _drift(value: Mapping, ctx: Mapping) -> tuple[list, dict | None]:
    facts = [_fact("Datasets compared with the previous run", value.get("compared"))]
    facts.append(_fact("Kept the same columns", value.get("unchanged")))
    rows = [
        [
            {"text": cut(c.get("title")), "link": ctx["links"].get(c.get("dataset_id"))},
            {"text": cut(", ".join(c.get("added") or []) or "—", 200)},
            {"text": cut(", ".join(c.get("removed") or []) or "—", 200)},
        ]
        for c in value.get("changed") or []
    ]
    table = {"headers": ["Dataset", "Columns added", "Columns removed"], "rows": rows[:ROWS_LIMIT]}
    return facts, table if rows else None


def _key_types(value: Mapping, ctx: Mapping) -> tuple[list, dict | None]:
    facts = [
        _fact("Catalog entries examined", value.get("examined")),
        _fact("Key types found", value.get("found")),
        _fact("Per type", "see the key datasets table", "#key-datasets"),
    ]
    return facts, None


def _disaggregated(value: Mapping, ctx: Mapping) -> tuple[list, dict | None]:
    names = value.get("dimension_names") or {}
    dims = value.get("dimensions") or {}
    facts = [
        _fact("Tabular datasets with column names", value.get("datasets")),
        _fact("Disaggregated", value.get("disaggregated")),
        _fact("Dimensions found", ", ".join(f"{names.get(k, k)} ({n})" for k, n in dims.items()) or "none"),
    ]
    return facts, None


READERS: dict[str, Callable[[Mapping, Mapping], tuple[list, dict | None]]] = {
    "harvest.catalog": _harvest,
    "portal.policy_document": _signal,
    "portal.inventory": _inventory,
    "links.reachable": _links,
    "portal.catalog_activity": _activity,
    "content.quality": _quality,
    "content.schema_drift": _drift,
    "key_datasets.types": _key_types,
    "key_datasets.disaggregated": _disaggregated,
}


def _generic(value: Any) -> tuple[list, dict | None]:
    if not isinstance(value, Mapping):
        return ([_fact("Value", value)] if value is not None else []), None
    facts = [
        _fact(k.replace("_", " "), v) for k, v in value.items() if isinstance(v, str | int | float | bool)
    ]
    return facts, None


def portal_evidence(report: Mapping) -> list[dict[str, Any]]:
    """Every portal-level check of the run as readable evidence, in the order the run stored them."""
    datasets = report.get("datasets") or []
    links: dict[Any, str | None] = {}
    for dataset in datasets:
        links.setdefault(dataset.get("dataset_id"), web_link(dataset.get("landing_page")))
    ctx = {"links": links, "datasets": datasets, "as_of": (report.get("run") or {}).get("as_of")}
    rows = []
    for row in report.get("portal_checks") or []:
        check_id = str(row.get("check_id") or "")
        value = row.get("value")
        reader = READERS.get(check_id)
        try:
            facts, table = reader(value, ctx) if reader and isinstance(value, Mapping) else _generic(value)
        except (AttributeError, TypeError, ValueError):  # a value of an unexpected shape: show it raw
            facts, table = [], None
        raw = json.dumps(value, default=to_jsonable, ensure_ascii=False, sort_keys=True, indent=1)
        rows.append(
            {
                "portal": row.get("portal") or "",
                "check_id": check_id,
                "status": row.get("status") or "",
                "status_class": STATUS_CLASS.get(row.get("status"), "none"),
                "reason": row.get("reason") or "",
                "facts": facts,
                "table": table,
                "raw": None if reader and facts or value is None else _clip(raw, RAW_LIMIT),
            }
        )
    return rows
