"""A seeded, platform-neutral fake catalog: entries first, platform shapes later.

Same arguments give the same entries (and so byte-identical responses): every draw comes from
one `random.Random` seeded with a string (rows: see rows.py).
"""

from __future__ import annotations

import random
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from wwc_pipeline.simulator import vocabulary as vocab

DAY = 86400
SOCRATA_ID_CHARS = "23456789abcdefghijkmnpqrstuvwxyz"


@dataclass(frozen=True)
class FakeColumn:
    name: str
    field_name: str
    datatype: str  # Socrata dataTypeName: text, number, calendar_date, checkbox
    description: str | None
    kind: str  # how the row generator fills it


@dataclass
class Entry:
    """One catalog entry, before any platform renders it. Times are epoch seconds (UTC)."""

    key: str  # stable neutral key ("e00042"), used in file URLs
    uid: str  # Socrata four-by-four
    uuid: str  # CKAN id
    slug: str  # CKAN name, ODS dataset_id
    asset_type: str  # dataset, chart, map, story, filter
    kind: str  # generic, inventory, performance, contracts, key, lookalike, policy, derived
    title: str
    description: str
    tags: list[str]
    category: str
    department: str
    contact_name: str | None
    contact_email: str | None
    licence: str | None  # key of vocabulary.LICENCES
    cadence: str | None  # key of vocabulary.CADENCES
    created: int
    metadata_modified: int
    data_modified: int
    formats: list[str]
    columns: list[FakeColumn]
    row_count: int
    views: int
    downloads: int
    row_seed: int
    stale: bool = False  # ground truth: judged stale at as_of
    missing_metadata: bool = False
    broken_link: bool = False  # its download files answer 404
    planted_defects: dict[str, tuple[str, ...]] = field(default_factory=dict)  # kind -> fields (defects.py)
    parent: str | None = None  # uid of the dataset a chart/map derives from
    revision: int = 0  # bumped by every change (render caches key on it)
    extra: dict = field(default_factory=dict)

    @property
    def is_dataset(self) -> bool:
        return self.asset_type == "dataset"

    @property
    def updated(self) -> int:
        return max(self.data_modified, self.metadata_modified)


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "item"


def _weighted(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


class _Ids:
    """Unique ids of each kind, drawn from the catalog's generator."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.uids: set[str] = set()
        self.slugs: set[str] = set()

    def uid(self) -> str:
        while True:
            chars = "".join(self.rng.choices(SOCRATA_ID_CHARS, k=8))
            uid = f"{chars[:4]}-{chars[4:]}"
            if uid not in self.uids:
                self.uids.add(uid)
                return uid

    def slug(self, title: str) -> str:
        base = slugify(title)[:80]
        slug, n = base, 1
        while slug in self.slugs:
            n += 1
            slug = f"{base}-{n}"
        self.slugs.add(slug)
        return slug

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))


@dataclass(frozen=True)
class Plan:
    size: int
    seed: int
    share_stale: float
    share_missing_metadata: float
    city: str
    as_of: datetime
    share_non_dataset: float
    include_policy: bool
    specials: bool = True  # the inventory, performance and contracts datasets
    key_prefix: str = "e"
    key_datasets: tuple[str, ...] = vocab.DEFAULT_KEY_DATASETS  # key types published (vocab.KEY_DATASETS)
    look_alikes: bool = True  # titles like key datasets that must match none (vocab.LOOK_ALIKES)


def generate_entries(
    plan: Plan, taken_uids: set[str] = frozenset(), taken_slugs: set[str] = frozenset()
) -> list[Entry]:
    """The catalog's entries, in catalog order (datasets and non-dataset assets interleaved)."""
    rng = random.Random(f"wwc-simulator:{plan.seed}")
    ids = _Ids(rng)
    ids.uids.update(taken_uids)
    ids.slugs.update(taken_slugs)
    n = plan.size
    as_of = int(plan.as_of.timestamp())
    kinds = ["generic"] * n
    specials = list(vocab.SPECIAL_TITLES) if plan.specials else []
    specials += [f"key:{key}" for key in plan.key_datasets]
    specials += [f"lookalike:{i}" for i in range(len(vocab.LOOK_ALIKES) if plan.look_alikes else 0)]
    for position, kind in zip(rng.sample(range(n), min(len(specials), n)), specials, strict=False):
        kinds[position] = kind
    missing = set(rng.sample(range(n), round(plan.share_missing_metadata * n)))
    cadences = [
        None if i in missing else _weighted(rng, {k: w for k, (_, w) in vocab.CADENCES.items()})
        for i in range(n)
    ]
    with_cadence = [i for i in range(n) if cadences[i] and vocab.CADENCES[cadences[i]][0]]
    stale = set(rng.sample(with_cadence, round(plan.share_stale * len(with_cadence))))
    entries = [
        _dataset(rng, ids, plan, as_of, kinds[i], cadences[i], i in stale, i in missing, i) for i in range(n)
    ]
    extras = [_derived(rng, ids, entries, i) for i in range(round(n * plan.share_non_dataset) if n else 0)]
    if plan.include_policy:
        extras.append(_policy(rng, ids, plan, as_of, len(extras)))
    for extra in extras:
        entries.insert(rng.randrange(len(entries) + 1), extra)
    return entries


def _times(rng: random.Random, as_of: int, cadence: str | None, stale: bool) -> tuple[int, int, int]:
    period = vocab.CADENCES[cadence][0] if cadence else None
    if period is None:
        age = rng.uniform(1, 900)
    elif stale:  # past METRICS.md's bar (1.5 x period + 1 days) with a margin
        age = rng.uniform(1.5 * period + 2, 1.5 * period + 2 + max(30, 2 * period))
    else:  # within one period: stays fresh for half a period more after as_of
        age = rng.uniform(0.05, period)
    data_modified = as_of - int(age * DAY)
    created = data_modified - int(rng.uniform(30, 3000) * DAY)
    metadata_modified = max(created, data_modified - int(rng.uniform(0, 30) * DAY))
    return created, metadata_modified, data_modified


def _columns(rng: random.Random, kind: str, drop_descriptions: float) -> list[FakeColumn]:
    if kind in vocab.SPECIAL_COLUMNS:
        specs = vocab.SPECIAL_COLUMNS[kind]
    elif kind.startswith("key:"):
        specs = vocab.BASE_COLUMNS + [vocab.KEY_COLUMNS[c] for c in vocab.KEY_DATASETS[kind[4:]][4]]
    else:
        specs = vocab.BASE_COLUMNS + rng.sample(vocab.EXTRA_COLUMNS, rng.randint(1, 6))
    return [
        FakeColumn(name, field, datatype, None if rng.random() < drop_descriptions else text, value_kind)
        for name, field, datatype, text, value_kind in specs
    ]


def _dataset(rng, ids, plan, as_of, kind, cadence, stale, missing, index) -> Entry:
    if kind in vocab.SPECIAL_TITLES:
        title, category, department, tags = vocab.SPECIAL_TITLES[kind]
        subject = title
    elif kind.startswith("key:"):
        title, category, department, tags, _ = vocab.KEY_DATASETS[kind[4:]]
        subject = title
    elif kind.startswith("lookalike:"):
        title, category, department = vocab.LOOK_ALIKES[int(kind[10:])]
        subject, tags = title, sorted(set(rng.sample(vocab.TAG_WORDS, 2)))
    else:
        category = rng.choice(list(vocab.CATEGORIES))
        subjects, departments = vocab.CATEGORIES[category]
        subject = rng.choice(subjects)
        department = rng.choice(departments)
        title = subject + rng.choice(vocab.TITLE_SUFFIXES)
        tags = sorted(set(rng.sample(vocab.TAG_WORDS, rng.randint(1, 4))))
    description = rng.choice(vocab.DESCRIPTION_OPENINGS).format(
        subject=subject, subject_lower=subject.lower(), department=department, city=plan.city
    ) + rng.choice(vocab.DESCRIPTION_ENDINGS)
    created, metadata_modified, data_modified = _times(rng, as_of, cadence, stale)
    formats = rng.choices([f for f, _ in vocab.FORMAT_SETS], weights=[w for _, w in vocab.FORMAT_SETS])[0]
    licence = _weighted(rng, vocab.LICENCE_WEIGHTS)
    entry = Entry(
        key=f"{plan.key_prefix}{index:05d}",
        uid=ids.uid(),
        uuid=ids.uuid(),
        slug=ids.slug(title),
        asset_type="dataset",
        kind=kind.split(":")[0],
        title=title,
        description="" if missing else description,
        tags=[] if missing else list(tags),
        category=category,
        department=department,
        contact_name=None if missing else rng.choice(vocab.CONTACT_NAMES),
        contact_email=None if missing else f"{slugify(department)}@{slugify(plan.city)}.example.gov",
        licence=None if missing else licence,
        cadence=cadence,
        created=created,
        metadata_modified=metadata_modified,
        data_modified=data_modified,
        formats=list(formats),
        columns=_columns(rng, kind, 0.15),
        row_count=plan.size if kind == "inventory" else int(10 ** rng.uniform(1, 4.3)),
        views=int(10 ** rng.uniform(1, 5)),
        downloads=int(10 ** rng.uniform(0, 4)),
        row_seed=rng.getrandbits(48),
        stale=stale,
        missing_metadata=missing,
        broken_link=rng.random() < 0.03,
        extra={"key_type": kind[4:]} if kind.startswith("key:") else {},
    )
    return entry


def _derived(rng: random.Random, ids: _Ids, datasets: list[Entry], index: int) -> Entry:
    parent = rng.choice(datasets)
    asset_type = ("chart", "map", "story", "filter")[index % 4]
    title = (
        f"{parent.title} - {asset_type.title()}" if asset_type != "story" else f"{parent.category} Dashboard"
    )
    return Entry(
        key=f"x{index:05d}",
        uid=ids.uid(),
        uuid=ids.uuid(),
        slug=ids.slug(title),
        asset_type=asset_type,
        kind="derived",
        title=title,
        description=f"A {asset_type} built on {parent.title}.",
        tags=list(parent.tags),
        category=parent.category,
        department=parent.department,
        contact_name=parent.contact_name,
        contact_email=parent.contact_email,
        licence=parent.licence,
        cadence=None,
        created=parent.created,
        metadata_modified=parent.metadata_modified,
        data_modified=parent.data_modified,
        formats=[],
        columns=list(parent.columns) if asset_type in ("chart", "map", "filter") else [],
        row_count=0,
        views=int(10 ** rng.uniform(1, 4)),
        downloads=0,
        row_seed=0,
        parent=parent.uid,
    )


def _policy(rng: random.Random, ids: _Ids, plan: Plan, as_of: int, index: int) -> Entry:
    created = as_of - int(rng.uniform(400, 2500) * DAY)
    return Entry(
        key=f"p{index:05d}",
        uid=ids.uid(),
        uuid=ids.uuid(),
        slug=ids.slug(vocab.POLICY_TITLE),
        asset_type="story",
        kind="policy",
        title=vocab.POLICY_TITLE,
        description=f"The City of {plan.city}'s open data policy: what is published, by whom, how often.",
        tags=["open data", "policy"],
        category="City Government",
        department="Information Technology",
        contact_name="Open Data Team",
        contact_email=f"opendata@{slugify(plan.city)}.example.gov",
        licence="cc0",
        cadence=None,
        created=created,
        metadata_modified=created,
        data_modified=created,
        formats=["pdf"],
        columns=[],
        row_count=0,
        views=int(10 ** rng.uniform(2, 4)),
        downloads=int(10 ** rng.uniform(1, 3)),
        row_seed=0,
    )


def shift(entry: Entry, when: int, seconds_before_metadata: int = 0) -> None:
    """Mark an entry as changed at `when` (epoch seconds): data and metadata modified then."""
    entry.data_modified = when
    entry.metadata_modified = when - seconds_before_metadata
    entry.created = min(entry.created, entry.metadata_modified)
    entry.revision += 1


def as_epoch(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())
