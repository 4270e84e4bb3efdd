"""The warehouse's history methods (mixed into `Warehouse`): a portal's past for a new run, the
snapshots already loaded, the trend, the renames."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from wwc_pipeline.history.observe import PortalHistory
from wwc_pipeline.model import CatalogSnapshot
from wwc_pipeline.warehouse import history_reads, trend_reads
from wwc_pipeline.warehouse.convert import utc
from wwc_pipeline.warehouse.models import COMPLETE_STATUSES, Dataset, DatasetRename, Portal, Run, Snapshot
from wwc_pipeline.warehouse.reads import iso


class HistoryStore:
    """Needs `self._session()` (Warehouse)."""

    def portal_history(
        self,
        city_id: str,
        platform: str,
        portal_url: str,
        as_of: datetime,
        before_run_id: int | None = None,
        replay: CatalogSnapshot | None = None,
    ) -> PortalHistory:
        """What `history.observe` needs of the portal's runs before (as_of, before_run_id); `replay`:
        this run's snapshot (a 304 replay's records are the previous run's, not read again)."""
        with self._session() as session:
            return history_reads.portal_history(
                session, city_id, platform, portal_url, as_of, before_run_id, replay
            )

    def loaded_snapshot_run(
        self, city_id: str, platform: str, portal_url: str, as_of: datetime, digest: str
    ) -> int | None:
        """The completed run that already holds this snapshot (same city, portal, as-of time and
        content digest), or None: what makes loading a snapshot twice add nothing."""
        with self._session() as session:
            portal_id = history_reads.portal_id_of(session, city_id, platform, portal_url)
            if portal_id is None:
                return None
            rows = session.execute(
                select(Run.id, Run.as_of, Snapshot.page_digests)
                .join(Snapshot, Snapshot.run_id == Run.id)
                .where(
                    Snapshot.portal_id == portal_id,
                    Snapshot.status.in_(COMPLETE_STATUSES),
                    Run.status.in_(trend_reads.COMPLETED),
                )
            )
            for run_id, run_as_of, digests in rows:
                if utc(run_as_of) == utc(as_of) and list(digests or []) == [digest]:
                    return run_id
        return None

    def city_trend(self, city_id: str) -> list[dict[str, Any]]:
        """One point per completed run of the city, in as-of order (trend_reads.trend)."""
        with self._session() as session:
            return trend_reads.trend(session, city_id)

    def dataset_renames(self, city_id: str) -> list[dict[str, Any]]:
        """Every recorded rename of the city's datasets, in as-of order of the runs that saw them."""
        with self._session() as session:
            rows = session.execute(
                select(DatasetRename, Run.as_of, Portal.url, Dataset.dataset_id)
                .join(Run, Run.id == DatasetRename.run_id)
                .join(Portal, Portal.id == DatasetRename.portal_id)
                .join(Dataset, Dataset.id == DatasetRename.dataset_id)
                .where(Portal.city_id == city_id)
                .order_by(Run.as_of, Run.id, DatasetRename.id)
            )
            return [
                {
                    "run_id": rename.run_id,
                    "as_of": iso(as_of),
                    "portal": url,
                    "dataset_key": rename.dataset_id,
                    "from_dataset_key": rename.from_dataset_id,
                    "old_id": rename.old_identifier,
                    "new_id": rename.new_identifier,
                    "rule": rename.rule,
                    "current_id": current,
                }
                for rename, as_of, url, current in rows
            ]
