"""Which datasets' rows `content.quality` reads: a seeded sample, stratified by category.

The seed comes from the portal, never the clock: the same catalog gives the same sample on every
run, so that two runs compare like with like. Strata are a dataset's first category, else its
publisher; the order visits every stratum once before it takes a second dataset from any.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterator

from wwc_pipeline.model import DatasetRecord
from wwc_pipeline.text import clean_text


def stratum(record: DatasetRecord) -> str:
    """A dataset's stratum: its first category, else its publisher, else none."""
    for kind, value in (("category", (record.categories or [None])[0]), ("publisher", record.publisher)):
        text = " ".join(clean_text(value or "").lower().split())
        if text:
            return f"{kind}:{text}"
    return "none"


def portal_seed(platform: str, portal: str | None) -> int:
    digest = hashlib.sha256(f"content.quality:{platform}:{portal or ''}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def sample_order(records: list[DatasetRecord], seed: int) -> list[DatasetRecord]:
    """Every dataset once, in sampling order: strata in seeded order, visited round-robin,
    each stratum's datasets in seeded order. The first n are the sample of n."""
    rng = random.Random(seed)
    strata: dict[str, list[DatasetRecord]] = {}
    seen: set[str] = set()
    for record in sorted((r for r in records if r.is_dataset), key=lambda r: r.dataset_id):
        if record.dataset_id not in seen:  # a repeated id is one dataset to sample
            seen.add(record.dataset_id)
            strata.setdefault(stratum(record), []).append(record)
    queues = [strata[key] for key in sorted(strata)]
    rng.shuffle(queues)
    for queue in queues:
        rng.shuffle(queue)
    order: list[DatasetRecord] = []
    for depth in range(max((len(q) for q in queues), default=0)):
        order.extend(queue[depth] for queue in queues if depth < len(queue))
    return order


def candidates(
    records: list[DatasetRecord], platform: str, portal: str | None, wanted: int, attempts_factor: float
) -> Iterator[DatasetRecord]:
    """The datasets to try, in order, at most `wanted x attempts_factor` of them: the check stops
    once `wanted` gave rows, and takes the next one in line when a dataset gives none."""
    limit = max(0, round(wanted * attempts_factor))
    yield from sample_order(records, portal_seed(platform, portal))[:limit]


def within_bytes(rows: list[dict], max_bytes: int) -> tuple[list[dict], bool]:
    """The leading rows whose JSON fits in `max_bytes`, and whether any were left out."""
    kept, size = [], 0
    for row in rows:
        size += len(json.dumps(row, default=str, ensure_ascii=False).encode()) + 1
        if size > max_bytes:
            return kept, True
        kept.append(row)
    return kept, False
