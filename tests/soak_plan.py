"""The soak test's plan: cities, portals, one seeded fault per chosen portal and night, catalog changes.

Every kind of fault the simulator has (the fields of `Faults` that are not modifiers of another)
is used at least twice over the nights; a kind added to `Faults` and not planned here fails the
test (`unplanned_kinds`).
"""

from __future__ import annotations

import dataclasses
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from wwc_pipeline.simulator import Faults, SimulatedPortal

# fields that shape another fault rather than being one: the seed of `error_rate`, the paths a
# fault applies to, the wait announced with a 429
MODIFIERS = frozenset({"seed", "only_paths", "retry_after_s"})
FAULT_KINDS = tuple(field.name for field in dataclasses.fields(Faults) if field.name not in MODIFIERS)

# city -> (platform, datasets) per portal: 4 cities, 7 portals, all four platforms
CITIES = {
    "ashford": [("socrata", 40), ("ckan", 30)],
    "brookvale": [("dcat", 30), ("opendatasoft", 120)],  # ODS pages 100 at a time: two pages
    "carrow": [("socrata", 25), ("ckan", 45)],
    "dunmore": [("dcat", 20)],  # its documents' links point at the internal stand-in (127.0.0.2)
}
FAULTED_PER_NIGHT = 2


@dataclass(frozen=True)
class PlannedFault:
    night: int
    portal: int  # index into the flat list of portals, in CITIES order
    kind: str


def fault_schedule(nights: int, portals: int, seed: int = 13) -> list[PlannedFault]:
    """FAULTED_PER_NIGHT distinct portals a night, kinds dealt in turn so each comes up evenly."""
    rng = random.Random(seed)
    kinds = list(FAULT_KINDS)
    rng.shuffle(kinds)
    plan = []
    for night in range(nights):
        for slot, portal in enumerate(rng.sample(range(portals), FAULTED_PER_NIGHT)):
            plan.append(PlannedFault(night, portal, kinds[(night * FAULTED_PER_NIGHT + slot) % len(kinds)]))
    return plan


def unplanned_kinds(plan: list[PlannedFault]) -> set[str]:
    return set(FAULT_KINDS) - {fault.kind for fault in plan}


def make_faults(
    kind: str, night: int, portal: SimulatedPortal, internal_url: str, mirror: Callable[[], str]
) -> Faults:
    """The fault of `kind` for one portal and night; `mirror()` starts a copy of the portal on
    127.0.0.1 and returns its URL (a redirect there is followed; one to `internal_url` is not)."""
    entries = portal.entries
    builders: dict[str, Callable[[], Faults]] = {
        "latency_s": lambda: Faults(latency_s=0.02),
        "fail_first_n": lambda: Faults(fail_first_n=2),
        "status_429_first_n": lambda: Faults(status_429_first_n=2, retry_after_s=1),
        "error_rate": lambda: Faults(error_rate=0.25, seed=night),
        "down": lambda: Faults(down=True),
        "truncate_json": lambda: Faults(truncate_json=True),
        "ignore_paging": lambda: Faults(ignore_paging=True),
        "oversized_bytes": lambda: Faults(oversized_bytes=300_000),
        "reported_total": lambda: Faults(reported_total=len(entries) + 7),
        "invalid_utf8_in": lambda: Faults(invalid_utf8_in=entries[night % len(entries)].title),
        "gzip_bomb_mb": lambda: Faults(gzip_bomb_mb=4),
        "drip_interval_s": lambda: Faults(drip_interval_s=0.05),
        "redirect_to": lambda: Faults(redirect_to=internal_url if night % 2 else mirror()),
        "refuse_head": lambda: Faults(refuse_head=True),
    }
    missing = set(FAULT_KINDS) - set(builders)
    assert not missing, f"the soak test has no fault built for {sorted(missing)}: add one"
    return builders[kind]()


def change_catalog(portal: SimulatedPortal, position: int, night: int, at) -> Counter:
    """Between nights the portal changes: datasets revised, added, removed (seeded by the portal's
    position and the night, not by its URL, whose port differs from run to run)."""
    rng = random.Random(f"{position}:{night}")
    catalog = portal.catalog
    counts = Counter()
    if rng.random() < 0.6:
        counts["touched"] += len(catalog.touch(rng.randint(1, 4), at=at, seed=night))
    if rng.random() < 0.4:
        counts["added"] += len(catalog.add(rng.randint(1, 3), at=at))
    if rng.random() < 0.3 and len(catalog.datasets) > 10:
        counts["removed"] += len(catalog.remove(rng.randint(1, 2), seed=night))
    return counts


def served_ids(portal: SimulatedPortal) -> tuple[Counter, int]:
    """Ground truth: the ids of the datasets the portal serves now, as each platform's connector
    names them (a Socrata chart, map or story is an asset, not a dataset), and its asset count."""
    name = {
        "socrata": lambda entry: entry.uid,
        "ckan": lambda entry: entry.uuid,
        "opendatasoft": lambda entry: entry.slug,
        "dcat": lambda entry: portal.site.page_url(entry),
    }[portal.platform]
    entries = portal.entries
    datasets = [e for e in entries if portal.platform != "socrata" or e.asset_type == "dataset"]
    return Counter(name(entry) for entry in datasets), len(entries)
