"""What a simulated portal serves: a seeded generated catalog, or a recorded real one.

A generated catalog can change between two harvests (`touch`, `add`, `remove`), for run-history
tests; every change bumps `version`, and the portal re-renders only the entries that changed.
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from wwc_pipeline.simulator import generator
from wwc_pipeline.simulator import vocabulary as vocab
from wwc_pipeline.simulator.defects import plant_defects
from wwc_pipeline.simulator.generator import Entry, Plan
from wwc_pipeline.simulator.rows import generate_rows

DEFAULT_AS_OF = datetime(2025, 6, 1, tzinfo=UTC)


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class GeneratedCatalog:
    """A deterministic fake catalog: same arguments, same entries, same bytes on every platform.

    `size` counts datasets. On top of them: `round(size * share_non_dataset)` charts, maps,
    stories and filters (Socrata only: other platforms have no such assets) and, with
    `include_policy`, one "Open Data Policy" entry (a Socrata story; a CKAN package, DCAT entry
    or ODS dataset without records elsewhere). Exactly `round(share_missing_metadata * size)`
    datasets have no description, keywords, contact, licence or frequency; of the datasets left
    with a recognized cadence, exactly `round(share_stale * that number)` are stale at `as_of`
    (METRICS.md's rule) and the others stay fresh for at least half a period after it.
    `as_of` defaults to a fixed date (2025-06-01 UTC) so that output never depends on the clock;
    pass the run's time to get a catalog that looks current. `key_datasets` names the key dataset
    types (vocabulary.KEY_DATASETS) the catalog publishes, and `look_alikes` adds titles that read
    like key datasets and must match none; both take the place of generic datasets. Exactly
    `round(share_dirty * n)` of the n generic datasets (not the inventory, performance or
    contracts ones) serve rows with planted defects, listed on `entry.planted_defects`; the rows
    of every other dataset are clean.
    """

    def __init__(
        self,
        size: int = 300,
        seed: int = 1,
        share_stale: float = 0.2,
        share_missing_metadata: float = 0.1,
        name: str = "Springfield",
        as_of: datetime | None = None,
        share_non_dataset: float = 0.05,
        include_policy: bool = True,
        dcat_page_size: int | None = None,
        key_datasets: Iterable[str] | None = None,
        look_alikes: bool = True,
        share_dirty: float = 0.2,
    ) -> None:
        if size < 0:
            raise ValueError(f"catalog size must be 0 or more, got {size}")
        for label, share in (
            ("share_stale", share_stale),
            ("share_missing_metadata", share_missing_metadata),
            ("share_non_dataset", share_non_dataset),
            ("share_dirty", share_dirty),
        ):
            if not 0.0 <= share <= 1.0:
                raise ValueError(f"{label} must be between 0 and 1, got {share}")
        unknown = sorted(set(key_datasets or ()) - set(vocab.KEY_DATASETS))
        if unknown:
            raise ValueError(
                f"unknown key dataset type(s) {', '.join(unknown)}; known: {', '.join(vocab.KEY_DATASETS)}"
            )
        if dcat_page_size is not None and dcat_page_size < 1:
            raise ValueError(f"dcat_page_size must be 1 or more, got {dcat_page_size}")
        self.as_of = _utc(as_of or DEFAULT_AS_OF)
        self.name = name
        self.seed = seed
        self.dcat_page_size = dcat_page_size
        self.plan = Plan(
            size,
            seed,
            share_stale,
            share_missing_metadata,
            name,
            self.as_of,
            share_non_dataset,
            include_policy,
            key_datasets=vocab.DEFAULT_KEY_DATASETS if key_datasets is None else tuple(key_datasets),
            look_alikes=look_alikes,
        )
        self._entries = generator.generate_entries(self.plan)
        self.share_dirty = share_dirty
        plant_defects(self._entries, share_dirty, seed)
        self._lock = threading.RLock()
        self.version = 0

    @property
    def entries(self) -> list[Entry]:
        """Every entry, in catalog order (a copy of the list; the entries themselves are live)."""
        return self.snapshot()[1]

    @property
    def datasets(self) -> list[Entry]:
        return [entry for entry in self.entries if entry.is_dataset]

    @property
    def dirty(self) -> list[Entry]:
        """The datasets whose rows carry planted defects (ground truth for content checks)."""
        return [entry for entry in self.entries if entry.planted_defects]

    def snapshot(self) -> tuple[int, list[Entry]]:
        with self._lock:
            return self.version, list(self._entries)

    def touch(self, n: int, at: datetime | None = None, seed: int = 0) -> list[Entry]:
        """Change `n` datasets (chosen by `seed`): data and metadata modified at `at` (default as_of).

        An old `at` makes them stale; their description gets a revision note either way, so the
        normalized record (and its content hash) changes.
        """
        when = generator.as_epoch(at or self.as_of)
        with self._lock:
            datasets = [entry for entry in self._entries if entry.is_dataset]
            chosen = random.Random(f"touch:{self.seed}:{seed}:{self.version}").sample(
                datasets, min(n, len(datasets))
            )
            for entry in chosen:
                generator.shift(entry, when)
                note = f" Revised {datetime.fromtimestamp(when, UTC):%Y-%m-%d}."
                entry.description = (entry.description + note).strip()
                period = vocab.CADENCES[entry.cadence][0] if entry.cadence else None
                age_days = (generator.as_epoch(self.as_of) - when) / generator.DAY
                entry.stale = period is not None and age_days > 1.5 * period + 1
            self.version += 1
            return chosen

    def add(self, n: int, at: datetime | None = None) -> list[Entry]:
        """Append `n` new datasets created at `at` (default as_of)."""
        with self._lock:
            plan = Plan(
                n,
                (self.seed + 1) * 100_003 + self.version,
                0.0,
                0.0,
                self.name,
                _utc(at) if at else self.as_of,
                0.0,
                False,
                specials=False,
                key_prefix=f"a{self.version:03d}-",
                key_datasets=(),
                look_alikes=False,
            )
            fresh = generator.generate_entries(
                plan, {e.uid for e in self._entries}, {e.slug for e in self._entries}
            )
            self._entries.extend(fresh)
            self.version += 1
            return fresh

    def remove(self, n: int, seed: int = 0) -> list[Entry]:
        """Remove `n` datasets (chosen by `seed`) from the catalog."""
        with self._lock:
            datasets = [entry for entry in self._entries if entry.is_dataset]
            chosen = random.Random(f"remove:{self.seed}:{seed}:{self.version}").sample(
                datasets, min(n, len(datasets))
            )
            gone = {entry.key for entry in chosen}
            self._entries = [entry for entry in self._entries if entry.key not in gone]
            self.version += 1
            return chosen

    def rows(self, entry: Entry, start: int, stop: int) -> list[dict]:
        """Rows start..stop-1 of a dataset, as {field_name: value}."""
        catalog = self.entries if entry.kind == "inventory" else []
        return generate_rows(entry, start, stop, catalog, generator.as_epoch(self.as_of))

    def __repr__(self) -> str:
        return f"GeneratedCatalog(size={self.plan.size}, seed={self.seed}, name={self.name!r})"


class RecordedCatalog:
    """A real recorded catalog replayed as-is. Several files (consecutive Discovery pages) join up.

    What each platform accepts: Socrata a Discovery response (`{"results": [...]}`, served
    with paging over its results) or a views list; DCAT a data.json (dict, or POD 1.0 list,
    served byte for byte when unpaged); CKAN a list of packages or an API envelope; OpenDataSoft
    a v2.1 `{"results": [...]}`, an exports list or a v2.0 `{"datasets": [...]}`.
    """

    version = 0

    def __init__(self, path: Path | str | list[Path | str], dcat_page_size: int | None = None) -> None:
        paths = [Path(p) for p in (path if isinstance(path, list) else [path])]
        if not paths:
            raise ValueError("RecordedCatalog needs at least one file")
        self.paths = paths
        self.dcat_page_size = dcat_page_size
        self.raw: list[bytes] = []
        self.documents: list[Any] = []
        for file in paths:
            if not file.is_file():
                raise ValueError(f"recorded catalog {file} not found")
            data = file.read_bytes()
            try:
                self.documents.append(json.loads(data))
            except ValueError as error:
                raise ValueError(f"recorded catalog {file} is not valid JSON ({error})") from None
            self.raw.append(data)

    def snapshot(self) -> tuple[int, list[Entry]]:
        return 0, []

    @property
    def entries(self) -> list[Entry]:
        return []

    def items(self, key: str | None = None) -> list:
        """The list each document holds (under `key` when it is a dict), joined in file order."""
        joined: list = []
        for document in self.documents:
            if isinstance(document, list):
                joined.extend(document)
            elif key and isinstance(document, dict) and isinstance(document.get(key), list):
                joined.extend(document[key])
            else:
                name = f"`{key}` list" if key else "list"
                raise ValueError(f"recorded catalog {self.paths[0].name}: expected a {name}")
        return joined

    def items_at(self, path: tuple[str, ...]) -> list:
        """The list found under the keys `path` in each document, joined in file order."""
        joined: list = []
        for file, document in zip(self.paths, self.documents, strict=True):
            value = document
            for key in path:
                value = value.get(key) if isinstance(value, dict) else None
            if not isinstance(value, list):
                raise ValueError(f"recorded catalog {file.name}: expected a list at {'.'.join(path)}")
            joined.extend(value)
        return joined

    def __repr__(self) -> str:
        return f"RecordedCatalog({', '.join(str(p) for p in self.paths)})"
