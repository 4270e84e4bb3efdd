"""Expectations for one dataset's sampled rows, derived from its declared schema and column names.

`plan_expectations` is plain pandas: it lays the rows out as a frame (columns named by
`column_key`), adds the derived columns the rules need ("amount#number", "status#variant", ...)
and lists the Great Expectations expectations to run, each tagged with the defect kind it looks
for. `content.py` runs them. Nothing here imports Great Expectations.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING

from wwc_pipeline.checks.quality_rules import QualityRules
from wwc_pipeline.checks.row_values import (
    as_date,
    as_number,
    as_text,
    case_variants,
    cell,
    coordinates,
    point_text,
)

from wwc_pipeline.model import Column

if TYPE_CHECKING:
    import pandas as pd

NO_ROWS, NULLS, WRONG_TYPE, COORDINATES = "no_rows", "nulls", "wrong_type", "coordinates"
NEGATIVE_AMOUNTS, FUTURE_DATES, DUPLICATE_ROWS, CASE_VARIANTS = (
    "negative_amounts",
    "future_dates",
    "duplicate_rows",
    "case_variants",
)
KINDS = (
    NO_ROWS,
    NULLS,
    WRONG_TYPE,
    COORDINATES,
    NEGATIVE_AMOUNTS,
    FUTURE_DATES,
    DUPLICATE_ROWS,
    CASE_VARIANTS,
)
NUMBER = r"^\s*[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?\s*$"  # no capture groups: pandas warns on them
BOOLEAN = r"^(?:[Tt]rue|[Ff]alse|TRUE|FALSE|[TtFfYyNn01]|[Yy]es|[Nn]o)$"
POINT = r"^POINT \([-+.\deE]+ [-+.\deE]+\)$"  # as `point_text` writes a point with both coordinates
NULL_ISLAND = "0, 0"


@dataclass(frozen=True)
class Planned:
    """One expectation to run: its Great Expectations class and arguments, and what it means."""

    kind: str  # the defect kind it looks for (KINDS)
    column: str | None  # the column as the catalog (or else the rows) names it
    expectation: str  # Great Expectations class name
    kwargs: dict = field(default_factory=dict)
    allowed: float = 0.0  # the largest share of rows (or values) that may break the rule
    what: str = ""  # the rule in words, for a failure: "values not a number"


@lru_cache(maxsize=8192)
def column_key(name: str) -> str:
    """A column name reduced to lower-case letters and digits, for matching catalog and rows
    (remembered: the same few names come once per row)."""
    return re.sub(r"[\W_]+", "", str(name).lower())


class _Plan(list):
    """The expectations planned so far; `add` keeps each call on one line."""

    def add(
        self, kind: str, label: str | None, expectation: str, allowed: float, what: str, **kwargs
    ) -> None:
        self.append(Planned(kind, label, expectation, kwargs, allowed, what))


def plan_expectations(
    rows: list[dict], schema: list[Column] | None, rules: QualityRules, as_of: datetime
) -> tuple[pd.DataFrame, list[Planned]]:
    """The frame to validate and the expectations for it."""
    import pandas as pd

    plan = _Plan()
    plan.add(NO_ROWS, None, "ExpectTableRowCountToBeBetween", 0.0, "no rows", min_value=1)
    if not rows:
        return pd.DataFrame(), plan
    keyed: list[dict] = []
    labels: dict[str, str] = {}
    for row in rows:
        out: dict = {}
        for name, value in row.items():
            if str(name).startswith(":"):  # Socrata system fields (:id, :@computed_region_...)
                continue
            key = column_key(name) or "_"
            labels.setdefault(key, str(name))
            out.setdefault(key, cell(value))
        keyed.append(out)
    declared: dict[str, Column] = {}
    for column in schema or []:
        key = column_key(column.field_name or column.name)
        if key:
            declared.setdefault(key, column)
    keys = list(labels) + [key for key in declared if key not in labels]
    data: dict[str, list] = {key: [row.get(key) for row in keyed] for key in keys}
    derived: dict[str, list] = {"#row": [json.dumps(row, sort_keys=True, default=str) for row in keyed]}
    geo: dict[str, list] = {"latitude": [], "longitude": [], "pairs": []}
    for key in keys:
        _plan_column(plan, derived, geo, key, data[key], declared.get(key), labels.get(key), rules, as_of)
    _plan_coordinates(plan, derived, geo, rules)
    allowed = rules.thresholds.max_duplicate_share
    plan.add(
        DUPLICATE_ROWS,
        None,
        "ExpectColumnValuesToBeUnique",
        allowed,
        "rows identical to another row",
        column="#row",
        mostly=1 - allowed,
    )
    frame = pd.DataFrame(
        {key: pd.Series(values, dtype=object) for key, values in {**data, **derived}.items()}
    )
    return frame, list(plan)


def _plan_column(
    plan: _Plan,
    derived: dict,
    geo: dict,
    key: str,
    values: list,
    column: Column | None,
    spelled: str | None,
    rules: QualityRules,
    as_of: datetime,
) -> None:
    """The expectations on one column, by its declared type family and its names."""
    limits = rules.thresholds
    label = column.name if column is not None else str(spelled)
    names = (label, column.field_name if column is not None else None, spelled)
    family = rules.family(column.datatype) if column is not None else None
    nulls = limits.max_null_share
    plan.add(
        NULLS,
        label,
        "ExpectColumnProportionOfNonNullValuesToBeBetween",
        nulls,
        "empty rows",
        column=key,
        min_value=round(1 - nulls, 6),
    )
    typed = {"mostly": limits.min_type_conformance}
    wrong = round(1 - limits.min_type_conformance, 6)
    if family in ("number", "boolean", "point"):
        derived[f"{key}#text"] = [point_text(v) if family == "point" else as_text(v) for v in values]
        regex = {"number": NUMBER, "boolean": BOOLEAN, "point": POINT}[family]
        plan.add(
            WRONG_TYPE,
            label,
            "ExpectColumnValuesToMatchRegex",
            wrong,
            f"values that are not a {family}",
            column=f"{key}#text",
            regex=regex,
            **typed,
        )
    elif family == "date":
        derived[f"{key}#text"] = [as_text(v) for v in values]
        plan.add(
            WRONG_TYPE,
            label,
            "ExpectColumnValuesToBeDateutilParseable",
            wrong,
            "values that are not a date",
            column=f"{key}#text",
            **typed,
        )
        if not rules.named("future_allowed", *names):
            latest = as_of + timedelta(days=limits.future_tolerance_days)
            derived[f"{key}#date"] = [as_date(v) if v is not None else None for v in values]
            plan.add(
                FUTURE_DATES,
                label,
                "ExpectColumnValuesToBeBetween",
                limits.max_future_share,
                f"dates after {latest:%Y-%m-%d}",
                column=f"{key}#date",
                max_value=latest,
                mostly=1 - limits.max_future_share,
            )
    present = [v for v in values if v is not None]
    numbers = [as_number(v) for v in values]
    numeric = family == "number" or (
        family in (None, "text")
        and bool(present)
        and sum(n is not None for n in numbers) >= 0.9 * len(present)
    )
    if family == "point":
        found = [coordinates(v) for v in values]
        geo["latitude"].append((label, f"{key}#lat", [f[0] if f else None for f in found]))
        geo["longitude"].append((label, f"{key}#lon", [f[1] if f else None for f in found]))
        geo["pairs"].append((label, geo["latitude"][-1][2], geo["longitude"][-1][2]))
    elif numeric and rules.named("latitude", *names):
        geo["latitude"].append((label, f"{key}#number", numbers))
    elif numeric and rules.named("longitude", *names):
        geo["longitude"].append((label, f"{key}#number", numbers))
    elif numeric and rules.named("non_negative", *names):
        derived[f"{key}#number"] = numbers
        allowed = limits.max_out_of_range_share
        plan.add(
            NEGATIVE_AMOUNTS,
            label,
            "ExpectColumnValuesToBeBetween",
            allowed,
            "negative values",
            column=f"{key}#number",
            min_value=0,
            mostly=1 - allowed,
        )
    if family in (None, "text"):
        variants = case_variants(values, limits.low_cardinality_max_distinct)
        if variants is not None:
            derived[f"{key}#variant"] = variants
            allowed = limits.max_variant_share
            plan.add(
                CASE_VARIANTS,
                label,
                "ExpectColumnValuesToBeNull",
                allowed,
                "spellings that differ only by case or spaces",
                column=f"{key}#variant",
                mostly=1 - allowed,
            )


def _plan_coordinates(plan: _Plan, derived: dict, geo: dict, rules: QualityRules) -> None:
    """Latitudes in [-90, 90], longitudes in [-180, 180], and no point at 0, 0."""
    allowed = rules.thresholds.max_out_of_range_share
    for axis, bound in (("latitude", 90), ("longitude", 180)):
        for label, name, values in geo[axis]:
            derived[name] = values
            plan.add(
                COORDINATES,
                label,
                "ExpectColumnValuesToBeBetween",
                allowed,
                f"values outside [-{bound}, {bound}]",
                column=name,
                min_value=-bound,
                max_value=bound,
                mostly=1 - allowed,
            )
    pairs = list(geo["pairs"])
    if not pairs and geo["latitude"] and geo["longitude"]:
        (lat_label, _, lats), (lon_label, _, lons) = geo["latitude"][0], geo["longitude"][0]
        pairs.append((f"{lat_label} / {lon_label}", lats, lons))
    for number, (label, lats, lons) in enumerate(pairs):
        derived[f"#pair{number}"] = [
            f"{lat + 0.0:g}, {lon + 0.0:g}" if lat is not None and lon is not None else None
            for lat, lon in zip(lats, lons, strict=True)
        ]
        plan.add(
            COORDINATES,
            label,
            "ExpectColumnValuesToNotBeInSet",
            allowed,
            "points at 0, 0",
            column=f"#pair{number}",
            value_set=[NULL_ISLAND],
            mostly=1 - allowed,
        )
