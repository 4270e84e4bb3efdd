"""Row-level quality: `content.quality`'s validator over D sampled datasets of R rows each.

The rows are a generated catalog's, as the Socrata simulator serves them (SODA shapes, 30 % of
the datasets with planted defects), prepared in memory: this times validating, not fetching.

- **Ours**: one ephemeral Great Expectations context for the whole check call (`make_validator`
  once, then one suite per dataset). **Baseline**: a new context per dataset, what a first
  script does. The ratio is what sharing the context saves.
- **Scaling**: ours over 2D datasets against D (2 = linear).
- **GE as it ships**: ours again with `checks/ge_speedups.py` and `ge_fast_paths.py` taken off
  (`ge_speedups.uninstall()`): what the patches save, with the same findings.
- **Planning share**: the part of our time spent in plain pandas (laying out the frame and
  deriving the expectations), the rest being Great Expectations.
Both contenders must find the same defects; the result records whether they did, and whether
what they found is exactly what the simulator planted.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from benchmarks.common import interleaved, ratio
from wwc_pipeline.model import Column
from wwc_pipeline.simulator import GeneratedCatalog
from wwc_pipeline.simulator.socrata_shapes import soda_row

AS_OF = datetime(2025, 6, 1, tzinfo=UTC)


def samples(datasets: int, rows: int, seed: int) -> list[tuple[list[dict], list[Column], set[str]]]:
    """(rows, declared columns, planted defect kinds) of the first `datasets` datasets with rows."""
    catalog = GeneratedCatalog(
        size=max(datasets, 10), seed=seed, as_of=AS_OF, share_dirty=0.3, key_datasets=(), look_alikes=False
    )
    chosen = [entry for entry in catalog.datasets if entry.row_count][:datasets]
    return [
        (
            [soda_row(row) for row in catalog.rows(entry, 0, rows)],
            [Column(c.name, c.description, c.datatype, c.field_name) for c in entry.columns],
            set(entry.planted_defects),
        )
        for entry in chosen
    ]


def run(datasets: int = 25, rows: int = 200, repeat: int = 3, seed: int = 1) -> dict[str, Any]:
    from wwc_pipeline.checks import ge_speedups
    from wwc_pipeline.checks.content import make_validator
    from wwc_pipeline.checks.expectations import plan_expectations
    from wwc_pipeline.checks.quality_rules import load_quality_rules

    rules = load_quality_rules()
    small, big = samples(datasets, rows, seed), samples(2 * datasets, rows, seed)
    make_validator(rules, AS_OF)  # imports Great Expectations: not timed

    def ours(sampled: list) -> list[list[str]]:
        validate = make_validator(rules, AS_OF)
        return [validate(found, schema)["defects"] for found, schema, _ in sampled]

    def context_per_dataset() -> list[list[str]]:
        return [make_validator(rules, AS_OF)(found, schema)["defects"] for found, schema, _ in small]

    def as_shipped() -> list[list[str]]:
        validate = make_validator(rules, AS_OF)
        ge_speedups.uninstall()
        try:
            return [validate(found, schema)["defects"] for found, schema, _ in small]
        finally:
            ge_speedups.install()

    def planning_only() -> int:
        return sum(len(plan_expectations(found, schema, rules, AS_OF)[1]) for found, schema, _ in small)

    timings = interleaved(
        repeat,
        runs={
            "ours": lambda: ours(small),
            "context_per_dataset": context_per_dataset,
            "ours_2d": lambda: ours(big),
            "ge_as_shipped": as_shipped,
            "planning": planning_only,
        },
    )
    found = timings["ours"].result
    return {
        "datasets": len(small),
        "rows": rows,
        "expectations": timings["planning"].result,
        "ours": {
            **timings["ours"].as_dict(),
            "per_dataset_ms": round(1000 * timings["ours"].median / max(1, len(small)), 1),
        },
        "context_per_dataset": timings["context_per_dataset"].as_dict(),
        "ours_2d": {**timings["ours_2d"].as_dict(), "datasets": len(big)},
        "planning": timings["planning"].as_dict(),
        "ge_as_shipped": timings["ge_as_shipped"].as_dict(),
        "same_defects": found == timings["context_per_dataset"].result == timings["ge_as_shipped"].result,
        "found_as_planted": [set(kinds) for kinds in found] == [planted for _, _, planted in small],
        "dirty_datasets": sum(1 for _, _, planted in small if planted),
        "ratios": {
            "time_baseline_over_ours": ratio(timings["context_per_dataset"].median, timings["ours"].median),
            "time_2d_over_d": ratio(timings["ours_2d"].median, timings["ours"].median),
            "time_ge_as_shipped_over_ours": ratio(timings["ge_as_shipped"].median, timings["ours"].median),
            "planning_share": ratio(timings["planning"].median, timings["ours"].median),
        },
    }
