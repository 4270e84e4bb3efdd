"""The national landscape as data: which portals, on which platform, how big, in which city.

Seeded and deterministic: the same arguments give the same plan. At full size (850 portals,
500,000 datasets) it looks like the US: many small ArcGIS Hub / data.json sites, about 300
Socrata domains of which a few hold 10,000 datasets or more, some CKAN and a few OpenDataSoft
portals. Sizes are log-normal per platform (a long tail), then scaled so that they add up to
the wanted total exactly. Most cities have one portal; some have two (a Socrata domain and a
Hub site, say).

Conditional requests (ETag / Last-Modified, answered with 304) are a per-portal setting:
PLATFORMS.md documents them for SODA 2.1 only and marks every catalog API UNCONFIRMED, so the
defaults below are assumptions a caller can override.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from wwc_pipeline.simulator.generator import slugify

FULL_PORTALS = 850
FULL_DATASETS = 500_000
CONDITIONAL_MODES = ("both", "etag", "last-modified", "none")


@dataclass(frozen=True)
class PlatformShape:
    """How one platform's portals look: share of all portals and a log-normal size."""

    share: float
    median: float  # datasets, before scaling to the total
    sigma: float
    low: int
    high: int
    conditional: str  # default support of conditional requests (an assumption: see module doc)


SHAPES: dict[str, PlatformShape] = {
    "dcat": PlatformShape(0.56, 60, 1.1, 5, 8_000, "both"),  # Hub feeds: static documents behind a CDN
    "socrata": PlatformShape(0.35, 350, 1.2, 20, 9_000, "both"),  # SODA 2.1 documents both
    "ckan": PlatformShape(0.06, 400, 1.3, 10, 20_000, "none"),  # likely absent on the Action API
    "opendatasoft": PlatformShape(0.03, 250, 1.0, 10, 5_000, "none"),  # undocumented
}
BIG_SOCRATA_PER_FULL = 5  # "a few 10k+ Socrata domains" at full size
BIG_SOCRATA_SIZES = (10_000, 40_000)
SHARE_TWO_PORTAL_CITIES = 0.12
FIRST_PARTS = (
    "Spring", "Oak", "Maple", "River", "Lake", "Cedar", "Pine", "Fair", "Green", "Clear", "Red", "Stone",
    "Elm", "Brook", "Hill", "Sun", "Ash", "Willow", "Glen", "Rock", "North", "East", "West", "South",
    "Silver", "Golden", "Bay", "Mill", "Salt", "Iron",
)  # fmt: skip
LAST_PARTS = (
    "field", "dale", "ton", "ville", "port", "wood", "view", "side", "ford", "bury", "haven", "mont",
    "land", "burg", "crest", "mouth", "stead", "worth", "ridge", "falls",
)  # fmt: skip


@dataclass(frozen=True)
class PortalSpec:
    """One simulated portal: everything needed to generate its catalog again, byte for byte."""

    index: int
    city_id: str
    city_name: str
    platform: str
    datasets: int
    seed: int
    share_stale: float
    share_missing_metadata: float
    include_policy: bool
    conditional: str  # both | etag | last-modified | none


@dataclass(frozen=True)
class CityPlan:
    id: str
    name: str
    portals: tuple[int, ...]  # indexes into NationalPlan.portals


@dataclass(frozen=True)
class NationalPlan:
    seed: int
    as_of: datetime
    portals: tuple[PortalSpec, ...]
    cities: tuple[CityPlan, ...]

    @property
    def datasets(self) -> int:
        return sum(portal.datasets for portal in self.portals)

    def by_platform(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for portal in self.portals:
            counts[portal.platform] = counts.get(portal.platform, 0) + 1
        return counts


def national_plan(
    portals: int = FULL_PORTALS,
    datasets: int | None = None,
    seed: int = 1,
    as_of: datetime | None = None,
    conditional: str | Mapping[str, str] | None = None,
) -> NationalPlan:
    """A plan of `portals` portals holding `datasets` datasets in all (default: the national
    average of 500,000 / 850 a portal). `conditional` overrides the platforms' defaults: one
    mode for every portal, or a mode per platform."""
    if portals < 1:
        raise ValueError(f"a national plan needs at least one portal, got {portals}")
    datasets = round(portals * FULL_DATASETS / FULL_PORTALS) if datasets is None else datasets
    if datasets < portals:
        raise ValueError(f"{datasets} datasets cannot fill {portals} portals (at least one each)")
    modes = _conditional_modes(conditional)
    rng = random.Random(f"wwc-national:{seed}")
    platforms = _platform_counts(portals)
    sizes = _sizes(rng, platforms, datasets)
    order = [platform for platform, count in platforms.items() for _ in range(count)]
    rng.shuffle(order)
    by_platform = {platform: iter(sizes[platform]) for platform in platforms}
    cities = _cities(rng, portals)
    specs: list[PortalSpec] = []
    for city in cities:
        for index in city.portals:
            platform = order[index]
            specs.append(
                PortalSpec(
                    index=index,
                    city_id=city.id,
                    city_name=city.name,
                    platform=platform,
                    datasets=next(by_platform[platform]),
                    seed=rng.getrandbits(31),
                    share_stale=round(rng.uniform(0.05, 0.45), 3),
                    share_missing_metadata=round(rng.uniform(0.02, 0.3), 3),
                    include_policy=rng.random() < 0.7,
                    conditional=modes[platform],
                )
            )
    specs.sort(key=lambda spec: spec.index)
    moment = as_of or datetime(2025, 6, 1, tzinfo=UTC)
    return NationalPlan(seed, moment, tuple(specs), tuple(cities))


def _conditional_modes(conditional: str | Mapping[str, str] | None) -> dict[str, str]:
    modes = {platform: shape.conditional for platform, shape in SHAPES.items()}
    if isinstance(conditional, str):
        modes = dict.fromkeys(modes, conditional)
    elif conditional is not None:
        unknown = set(conditional) - set(SHAPES)
        if unknown:
            raise ValueError(f"unknown platform(s) {', '.join(sorted(unknown))}; use {', '.join(SHAPES)}")
        modes.update(conditional)
    bad = sorted({mode for mode in modes.values() if mode not in CONDITIONAL_MODES})
    if bad:
        raise ValueError(f"unknown conditional mode(s) {', '.join(bad)}; use {', '.join(CONDITIONAL_MODES)}")
    return modes


def _platform_counts(portals: int) -> dict[str, int]:
    """Portals per platform by the largest remainder of their shares (every count >= 0)."""
    exact = {platform: shape.share * portals for platform, shape in SHAPES.items()}
    counts = {platform: math.floor(value) for platform, value in exact.items()}
    by_remainder = sorted(exact, key=lambda p: exact[p] - counts[p], reverse=True)
    for platform in by_remainder[: portals - sum(counts.values())]:
        counts[platform] += 1
    return counts


def _sizes(rng: random.Random, platforms: dict[str, int], total: int) -> dict[str, list[int]]:
    """Each portal's datasets: log-normal draws scaled to `total`, a few big Socrata domains pinned."""
    portals = sum(platforms.values())
    big = min(platforms["socrata"], math.floor(portals * BIG_SOCRATA_PER_FULL / FULL_PORTALS + 0.5))
    big_sizes = [rng.randint(*BIG_SOCRATA_SIZES) for _ in range(big)]
    while big_sizes and sum(big_sizes) > total // 3:  # a small plan keeps room for the others
        big_sizes[big_sizes.index(max(big_sizes))] //= 2
    if total - sum(big_sizes) < portals - len(big_sizes):
        big, big_sizes = 0, []
    draws: dict[str, list[float]] = {}
    for platform, count in platforms.items():
        shape = SHAPES[platform]
        n = count - (big if platform == "socrata" else 0)
        draws[platform] = [
            min(shape.high, max(shape.low, rng.lognormvariate(math.log(shape.median), shape.sigma)))
            for _ in range(n)
        ]
    rest = total - sum(big_sizes)
    drawn = sum(sum(values) for values in draws.values())
    factor = rest / drawn if drawn else 0.0
    sizes = {platform: [max(1, round(v * factor)) for v in values] for platform, values in draws.items()}
    flat = [(platform, i) for platform in sizes for i in range(len(sizes[platform]))]
    difference = rest - sum(sum(values) for values in sizes.values())
    step = 1 if difference > 0 else -1
    while difference:  # spread the rounding difference over the largest portals
        before = difference
        for platform, i in sorted(flat, key=lambda key: -sizes[key[0]][key[1]]):
            if difference == 0:
                break
            if sizes[platform][i] + step >= 1:
                sizes[platform][i] += step
                difference -= step
        if difference == before:
            break
    sizes["socrata"] = big_sizes + sizes["socrata"]
    for values in sizes.values():
        rng.shuffle(values)
    return sizes


def _cities(rng: random.Random, portals: int) -> list[CityPlan]:
    """Group portal indexes into cities: most have one portal, some two."""
    names = _city_names(rng, portals)
    cities: list[CityPlan] = []
    index = 0
    while index < portals:
        pair = index + 1 < portals and rng.random() < SHARE_TWO_PORTAL_CITIES
        members = (index, index + 1) if pair else (index,)
        name = names[len(cities)]
        cities.append(CityPlan(f"{slugify(name)}-{len(cities) + 1:04d}", name, members))
        index += len(members)
    return cities


def _city_names(rng: random.Random, count: int) -> list[str]:
    pool = [first + last for first in FIRST_PARTS for last in LAST_PARTS]
    rng.shuffle(pool)
    return [pool[i % len(pool)] + ("" if i < len(pool) else f" {i // len(pool) + 1}") for i in range(count)]


def single_portal_plan(
    platform: str, datasets: int, seed: int = 1, as_of: datetime | None = None, conditional: str | None = None
) -> NationalPlan:
    """A plan of one portal (one city): a big portal alone, for the round-trip limit."""
    if platform not in SHAPES:
        raise ValueError(f"unknown platform {platform!r}; use one of {', '.join(SHAPES)}")
    spec = PortalSpec(
        index=0,
        city_id="solo-0001",
        city_name="Solo",
        platform=platform,
        datasets=datasets,
        seed=seed,
        share_stale=0.2,
        share_missing_metadata=0.1,
        include_policy=True,
        conditional=_conditional_modes(conditional)[platform],
    )
    moment = as_of or datetime(2025, 6, 1, tzinfo=UTC)
    return NationalPlan(seed, moment, (spec,), (CityPlan("solo-0001", "Solo", (0,)),))
