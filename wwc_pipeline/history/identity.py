"""Dataset identity across runs, surviving the identifier changes real portals make.

Minneapolis's ArcGIS Hub listed the same dataset as `http://.../datasets/<item>_0`, then
`https://.../datasets/<item>_0` (2020), then `https://.../maps/cityoflakes::<slug>` (2022). A run's
datasets are matched to the previous run's by these rules, in order, each on what earlier rules
left unmatched, and only where the match is one-to-one:

1. `identifier`: the identifier as is;
2. `identifier_without_scheme`: the identifier without its `http://` / `https://` (unique on
   both sides among the unmatched);
3. `platform_key`: a key the platform keeps stable (`PLATFORM_KEYS`), unique on both sides among
   the unmatched; where two datasets share a key (two Hub items over one service layer), the
   key together with the dataset's creation time;
4. `unique_title`: the title (case and white space ignored), when it is unique within the
   portal in both runs.

Every match but the first is a rename. What is left is added (new run) or removed (old run).
(`observe.assign_keys` adds one more, against all earlier runs: an identifier a dataset was
listed under before comes back to it, an `earlier_identifier` rename.)
A catalog that lists one identifier twice lists one dataset: repeats share its identity.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from wwc_pipeline.model import DatasetRecord
from wwc_pipeline.text import clean_text

RULES = ("identifier", "identifier_without_scheme", "platform_key", "unique_title")

_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
# An ArcGIS REST service, up to its layer number when it has one (`.../FeatureServer/0`).
_ARCGIS_SERVICE = re.compile(
    r"^(?P<base>.*?/rest/services/.+?/(?:featureserver|mapserver|imageserver|sceneserver|vectortileserver))"
    r"(?:/(?P<layer>\d+))?(?:/|$)",
    re.IGNORECASE,
)
# A Socrata four-by-four in a URL that Socrata wrote (`/api/views/abcd-1234`, `/d/abcd-1234`).
_SOCRATA_ID = re.compile(r"/(?:api/views|d|resource)/([a-z0-9]{4}-[a-z0-9]{4})(?:[/.?]|$)", re.IGNORECASE)


@dataclass(frozen=True)
class Rename:
    """One dataset listed under a new identifier, and the rule that recognised it."""

    old_id: str
    new_id: str
    rule: str


@dataclass
class Matching:
    """How a run's datasets relate to the previous run's: new id -> old id, and the rest."""

    pairs: dict[str, str] = field(default_factory=dict)  # current id -> previous id (every match)
    renames: list[Rename] = field(default_factory=list)  # the pairs whose ids differ, with the rule
    added: list[str] = field(default_factory=list)  # current ids with no match
    removed: list[str] = field(default_factory=list)  # previous ids with no match

    def counts(self) -> dict[str, int]:
        return {
            "matched": len(self.pairs),
            "renamed": len(self.renames),
            "added": len(self.added),
            "removed": len(self.removed),
        }


def without_scheme(identifier: str) -> str:
    return _SCHEME.sub("", identifier.strip())


def arcgis_service_key(record: DatasetRecord) -> str | None:
    """The ArcGIS service layer among the distributions: scheme, query and case dropped.

    Hub item ids and page URLs change; the FeatureServer/MapServer layer a Hub item wraps does not.
    Several different layers in one entry give no key (which one would it be?).
    """
    found = set()
    for distribution in record.distributions:
        match = _ARCGIS_SERVICE.match(urlsplit((distribution.url or "").strip())._replace(query="").geturl())
        if match:
            base = without_scheme(match.group("base")).lower()
            layer = match.group("layer")
            found.add(f"arcgis:{base}/{layer}" if layer is not None else f"arcgis:{base}")
    return found.pop() if len(found) == 1 else None


def socrata_id_key(record: DatasetRecord) -> str | None:
    """The Socrata four-by-four in the identifier or landing page of a data.json Socrata wrote."""
    for url in (record.dataset_id, record.landing_page):
        match = _SOCRATA_ID.search(url or "")
        if match:
            return f"socrata:{match.group(1).lower()}"
    return None


def dcat_key(record: DatasetRecord) -> str | None:
    return arcgis_service_key(record) or socrata_id_key(record)


# The platform-stable key per platform. Socrata ids (four-by-fours), CKAN package UUIDs and
# OpenDataSoft dataset ids are themselves the stable key there, so only data.json needs one.
PLATFORM_KEYS: dict[str, Callable[[DatasetRecord], str | None]] = {"dcat": dcat_key}


def platform_key(record: DatasetRecord) -> str | None:
    keyer = PLATFORM_KEYS.get(record.platform)
    return keyer(record) if keyer else None


def title_key(record: DatasetRecord) -> str | None:
    title = clean_text(record.title or "").casefold()
    return title or None


def distinct_datasets(records: Iterable[DatasetRecord]) -> dict[str, DatasetRecord]:
    """Id -> the first record listing it, in catalog order (datasets only; repeats collapse)."""
    found: dict[str, DatasetRecord] = {}
    for record in records:
        if record.is_dataset and record.dataset_id not in found:
            found[record.dataset_id] = record
    return found


def _unique_index(
    records: dict[str, DatasetRecord], key: Callable[[DatasetRecord], Hashable | None]
) -> dict[Hashable, str]:
    """Key -> id for the keys exactly one record has."""
    groups: dict[Hashable, list[str]] = defaultdict(list)
    for dataset_id, record in records.items():
        value = key(record)
        if value is not None:
            groups[value].append(dataset_id)
    return {value: ids[0] for value, ids in groups.items() if len(ids) == 1}


def _match_on(
    rule: str,
    key: Callable[[DatasetRecord], Hashable | None],
    previous: dict[str, DatasetRecord],
    current: dict[str, DatasetRecord],
    matching: Matching,
) -> None:
    """Pair the unmatched records whose key is unique on both sides; removes them from both."""
    old_index = _unique_index(previous, key)
    new_index = _unique_index(current, key)
    for value, new_id in new_index.items():
        old_id = old_index.get(value)
        if old_id is None:
            continue
        matching.pairs[new_id] = old_id
        if old_id != new_id:
            matching.renames.append(Rename(old_id, new_id, rule))
        del previous[old_id], current[new_id]


def _with_created(record: DatasetRecord) -> tuple[str, str] | None:
    key = platform_key(record)
    return (key, record.created_at.isoformat()) if key and record.created_at else None


def match_datasets(previous: Sequence[DatasetRecord], current: Sequence[DatasetRecord]) -> Matching:
    """Match a run's datasets to the previous run's (the rules of this module, in order)."""
    old = distinct_datasets(previous)
    new = distinct_datasets(current)
    matching = Matching()
    for dataset_id in [dataset_id for dataset_id in new if dataset_id in old]:
        matching.pairs[dataset_id] = dataset_id
        del old[dataset_id], new[dataset_id]
    if old and new:  # a side with nothing left (steady: every id matched as it is) has no pair to make
        _match_rest(previous, current, old, new, matching)
    matching.added = list(new)
    matching.removed = list(old)
    return matching


def _match_rest(
    previous: Sequence[DatasetRecord],
    current: Sequence[DatasetRecord],
    old: dict[str, DatasetRecord],
    new: dict[str, DatasetRecord],
    matching: Matching,
) -> None:
    """The rules after the exact id, in order, over the records still unmatched on both sides."""
    _match_on("identifier_without_scheme", lambda r: without_scheme(r.dataset_id) or None, old, new, matching)
    _match_on("platform_key", platform_key, old, new, matching)
    _match_on("platform_key", _with_created, old, new, matching)
    # A title counts only when unique in the whole run on both sides, not just among the rest.
    unique_old = _unique_titles(previous)
    unique_new = _unique_titles(current)
    _match_on(
        "unique_title",
        lambda r: title_key(r) if title_key(r) in unique_old and title_key(r) in unique_new else None,
        old,
        new,
        matching,
    )


def _unique_titles(records: Sequence[DatasetRecord]) -> set[str]:
    counts = Counter(title_key(record) for record in distinct_datasets(records).values())
    return {title for title, count in counts.items() if title is not None and count == 1}
