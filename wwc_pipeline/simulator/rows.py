"""Generated rows: each row drawn from its own seeded generator, so a page never changes a row.

Rows are clean unless the entry carries planted defects (defects.py: the ground truth content
checks are tested against). The inventory dataset lists the catalog.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime

from wwc_pipeline.simulator import vocabulary as vocab
from wwc_pipeline.simulator.defects import apply_defects, duplicated_source
from wwc_pipeline.simulator.generator import Entry


def generate_rows(entry: Entry, start: int, stop: int, catalog: list[Entry], as_of: int) -> list[dict]:
    """Rows start..stop-1 of an entry: {field_name: value}, with its planted defects (if any).

    `as_of` (epoch seconds): the catalog's date, from which planted future dates are drawn.
    """
    inventory = [e for e in catalog if e.is_dataset] if entry.kind == "inventory" else []
    rows = []
    for number in range(max(0, start), min(stop, entry.row_count)):
        source = duplicated_source(entry, number)
        rng = random.Random(entry.row_seed * 1_000_003 + source)
        listed = inventory[source] if source < len(inventory) else None
        row = {c.field_name: _value(rng, c.kind, source, entry, listed) for c in entry.columns}
        rows.append(apply_defects(entry, source, row, as_of))
    return rows


def _value(rng: random.Random, kind: str, number: int, entry: Entry, listed: Entry | None):
    if kind == "row_id":
        return number + 1
    if listed is not None:
        return _inventory_value(kind, listed)
    if kind == "date":
        moment = rng.uniform(entry.created, entry.data_modified)
        return datetime.fromtimestamp(moment, UTC).date()
    if kind in ("amount", "count"):
        value = round(rng.uniform(0, 50000 if kind == "amount" else 500), 2 if kind == "amount" else 0)
        return value if kind == "amount" else int(value)
    if kind in ("latitude", "longitude"):
        base = (41.6, 42.0) if kind == "latitude" else (-87.9, -87.5)
        return round(rng.uniform(*base), 6)
    if kind == "bool":
        return rng.random() < 0.5
    choices = {
        "status": vocab.STATUSES,
        "type": vocab.TYPES,
        "district": [str(d) for d in range(1, 10)],
        "vendor": vocab.VENDORS,
        "measure": vocab.MEASURES,
        "department": [entry.department],
    }
    if kind in choices:
        return rng.choice(choices[kind])
    if kind == "address":
        return f"{rng.randint(1, 99) * 100} {rng.choice(vocab.STREETS)}"
    if kind == "contract_no":
        return f"C-{rng.randint(10000, 99999)}"
    return f"value {rng.randint(1, 1000)}"


def _inventory_value(kind: str, listed: Entry):
    if kind == "inv_title":
        return listed.title
    if kind == "inv_department":
        return listed.department
    if kind == "inv_frequency":
        return vocab.CADENCE_TEXT["ckan"].get(listed.cadence or "", None)
    if kind == "inv_updated":
        return datetime.fromtimestamp(listed.data_modified, UTC).date()
    if kind == "inv_public":
        return True
    return None
