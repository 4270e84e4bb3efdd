"""`wwc backfill`: a folder of archived catalog snapshots loaded as runs of kind `backfill`.

Each snapshot goes through `pipeline.scan_city` exactly as a nightly harvest would (normalize,
checks, scores, warehouse), with the file in place of the live harvest and its capture date as
the run's as-of time. Checks that need the live portal (link probes, row samples) are n/a, as
in `wwc evaluate`. A snapshot already in the warehouse (same city, portal, as-of time and
content digest) adds nothing; a bad file is reported in one line and the rest still load.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wwc_pipeline import progress
from wwc_pipeline.config import CityConfig, CriteriaConfig, PortalConfig
from wwc_pipeline.history.snapshots import SnapshotError, list_snapshots, load_snapshot
from wwc_pipeline.model import CatalogSnapshot
from wwc_pipeline.pipeline import scan_city, utc_now


@dataclass
class BackfillResult:
    loaded: list[dict[str, Any]] = field(default_factory=list)  # file, run_id, as_of, datasets
    already: list[dict[str, Any]] = field(default_factory=list)  # file, run_id: loaded before
    problems: list[str] = field(default_factory=list)  # one line each

    @property
    def ok(self) -> bool:
        return not self.problems


def require_portal(city: CityConfig, portal_url: str | None) -> None:
    """A `--portal` that is not one of the city's is a usage error (one line), before any work."""
    if portal_url is not None and portal_url.rstrip("/") not in {p.url for p in city.portals}:
        known = ", ".join(p.url for p in city.portals)
        raise ValueError(f"--portal {portal_url} is not a portal of {city.id} (its portals: {known})")


def portal_chooser(city: CityConfig, portal_url: str | None) -> Any:
    """platform -> the city's portal of that platform (`portal_url` picks one when several)."""

    def choose(platform: str) -> PortalConfig:
        if portal_url is not None:
            wanted = portal_url.rstrip("/")
            chosen = [p for p in city.portals if p.url == wanted]
            if not chosen:
                known = ", ".join(p.url for p in city.portals)
                raise ValueError(f"--portal {portal_url} is not a portal of {city.id} (its portals: {known})")
            if chosen[0].platform != platform:
                raise ValueError(f"is a {platform} catalog, but {wanted} is a {chosen[0].platform} portal")
            return chosen[0]
        chosen = [p for p in city.portals if p.platform == platform]
        if not chosen:
            raise ValueError(f"is a {platform} catalog and {city.id} has no {platform} portal in the config")
        if len(chosen) > 1:
            raise ValueError(f"{city.id} has {len(chosen)} {platform} portals; pass --portal URL")
        return chosen[0]

    return choose


def backfill_city(
    city: CityConfig,
    directory: Path,
    *,
    warehouse: Any,
    criteria: CriteriaConfig,
    portal_url: str | None = None,
) -> BackfillResult:
    """Load every snapshot of `directory` for `city`, in as-of order (history/snapshots.py)."""
    require_portal(city, portal_url)
    entries, refused = list_snapshots(directory)
    result = BackfillResult(problems=[str(problem) for problem in refused])
    choose = portal_chooser(city, portal_url)
    progress.report("backfill", total=len(entries), done=0)
    for number, entry in enumerate(entries, start=1):
        try:
            snapshot = load_snapshot(entry, lambda platform: choose(platform).domain)
        except SnapshotError as error:
            result.problems.append(str(error))
            progress.report("backfill", total=len(entries), done=number, file=entry.path.name, state="failed")
            continue
        portal = choose(snapshot.platform)  # the portal its records were read for
        known = warehouse.loaded_snapshot_run(
            city.id, portal.platform, portal.url, snapshot.as_of, snapshot.digest
        )
        if known is not None:
            result.already.append({"file": entry.path.name, "run_id": known})
            progress.report(
                "backfill", total=len(entries), done=number, file=entry.path.name, state="already"
            )
            continue
        loaded_at = utc_now()
        harvested = CatalogSnapshot(
            platform=portal.platform,
            portal=portal.url,
            records=snapshot.records,
            assets=len(snapshot.records),
            pages=1,
            page_digests=[snapshot.digest],
            started_at=loaded_at,
            finished_at=loaded_at,
        )
        run = scan_city(
            city.model_copy(update={"portals": [portal]}),
            warehouse=warehouse,
            criteria=criteria,
            client=None,
            kind="backfill",
            trigger="cli",
            as_of=snapshot.as_of,
            harvest=lambda _portal, harvested=harvested: harvested,
        )
        if run.status == "failed":
            result.problems.append(f"{entry.path.name}: {run.error}")
        else:
            result.loaded.append(
                {
                    "file": entry.path.name,
                    "run_id": run.run_id,
                    "as_of": snapshot.as_of.isoformat(),
                    "datasets": len(harvested.datasets),
                }
            )
        progress.report("backfill", total=len(entries), done=number, file=entry.path.name, state=run.status)
    return result
