"""The warehouse repository: the one door the pipeline writes through and reports read from.

Plain data in, plain data out. Each portal of a run is written in one transaction, so a failed
or interrupted write leaves nothing of that portal; writing the same (run, portal) again
replaces what was there. A run beats (liveness.py) from `start_run` to `finish_run`, and
runs whose process died are marked failed ("abandoned: ...") when a run starts or runs are
listed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from alembic.util import CommandError
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session, sessionmaker

from wwc_pipeline.history.identity import Rename
from wwc_pipeline.model import CatalogSnapshot
from wwc_pipeline.results import CheckResult
from wwc_pipeline.warehouse import (
    entry_writes,
    liveness,
    reads,
    rename_writes,
    replay_reads,
    report_reads,
    result_writes,
    run_steps,
    trend_reads,
    writes,
)
from wwc_pipeline.warehouse.convert import jsonable, now, utc
from wwc_pipeline.warehouse.engine import (
    WRITE,
    WarehouseError,
    database_url,
    dispose_engine,
    first_line,
    get_engine,
    safe_url,
    upgrade,
)
from wwc_pipeline.warehouse.history_store import HistoryStore
from wwc_pipeline.warehouse.models import (
    RUN_KINDS,
    RUN_STATUSES,
    RUN_TRIGGERS,
    Base,
    City,
    CriterionScore,
    Portal,
    Run,
    Snapshot,
)
from wwc_pipeline.warehouse.writes import PortalWriteStats, require_run

LIVE_RUNS_FILTERED = 10_000  # this process's live runs left out of a reap by id (bound parameters)


def _one_of(what: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise WarehouseError(f"unknown run {what} {value!r}; expected one of {', '.join(allowed)}")
    return value


class Warehouse(HistoryStore):
    """SQLite file by default (`WWC_DATA_DIR`), any SQLAlchemy URL via `url` or `WWC_DATABASE_URL`.

    `stale_after`: a running run without a heartbeat for that long is abandoned (default
    `WWC_RUN_STALE_SECONDS`, else five minutes); this process beats every `stale_after` / 10.
    """

    def __init__(self, url: str | None = None, stale_after: timedelta | None = None) -> None:
        self.url = url or database_url()
        self.engine = get_engine(self.url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        try:
            self.stale_after = stale_after or liveness.stale_after_default()
        except ValueError as error:
            raise WarehouseError(str(error)) from None
        self._heartbeat = liveness.Heartbeat(self._beat, self.stale_after.total_seconds() / 10)

    def __repr__(self) -> str:
        return f"Warehouse({safe_url(self.url)!r})"

    @contextmanager
    def _session(self, write: bool = False) -> Iterator[Session]:
        """One transaction; database errors become a one-line WarehouseError, others pass through."""
        try:
            with self._sessions() as session, session.begin():
                if write:  # SQLite: take the write lock at BEGIN (see engine._sqlite_setup)
                    session.connection(execution_options=WRITE)
                yield session
        except (sa_exc.OperationalError, sa_exc.InterfaceError) as error:
            raise WarehouseError(
                f"cannot use the warehouse at {safe_url(self.url)}: {first_line(error)}"
            ) from None
        except sa_exc.SQLAlchemyError as error:
            raise WarehouseError(f"warehouse error at {safe_url(self.url)}: {first_line(error)}") from None

    def migrate(self) -> None:
        """Bring the schema to the latest migration (`alembic upgrade head`); safe to call every time."""
        try:
            upgrade(self.engine)
        except (sa_exc.SQLAlchemyError, CommandError) as error:
            raise WarehouseError(
                f"cannot migrate the warehouse at {safe_url(self.url)}: {first_line(error)}"
            ) from None

    def dispose(self) -> None:
        """Stop beating, close this URL's pooled connections (the cached engine is rebuilt on next use)."""
        self._heartbeat.stop()
        dispose_engine(self.url)

    # -- writes -------------------------------------------------------------------------------

    def start_run(self, city_id: str, city_name: str, kind: str, trigger: str, as_of: datetime) -> int:
        """Record the city (name kept current) and a new run in status `running`, with this
        process and a first heartbeat; returns its id. Abandoned runs are marked failed first."""
        return self.start_runs([(city_id, city_name)], kind, trigger, as_of)[0]

    def start_runs(
        self,
        cities: Sequence[tuple[str, str]],
        kind: str,
        trigger: str,
        as_of: datetime,
        flow_run_id: str | None = None,
    ) -> list[int]:
        """`start_run` for each (city id, name), in one transaction, each run naming the Prefect
        flow run behind it. A nightly starts every city before its first portal: two
        transactions a city (the start, then the flow run's id) took 0.94 s for 183 cities,
        one transaction for all 0.07 s (benchmarks/README.md, stop 32)."""
        _one_of("kind", kind, RUN_KINDS)
        _one_of("trigger", trigger, RUN_TRIGGERS)
        here = liveness.this_process()
        with self._session(write=True) as session:
            self._reap(session, here)
            run_ids = [
                _start(session, here, city_id, city_name, kind, trigger, as_of, flow_run_id)
                for city_id, city_name in cities
            ]
        for run_id in run_ids:
            self._heartbeat.add(run_id)
        return run_ids

    def _beat(self, run_ids: list[int]) -> None:
        with self._session(write=True) as session:
            session.execute(
                update(Run).where(Run.id.in_(run_ids), Run.status == "running").values(heartbeat_at=now())
            )

    def beat(self, run_id: int) -> None:
        """Write the run's heartbeat now (the heartbeat thread does this every interval)."""
        self._beat([run_id])

    def _suspects(self) -> Any:
        """The running runs a reap judges. The runs this process beats for are alive and not
        read: a nightly starts one run per city, and reading every earlier one again at each
        start made its start quadratic (759 starts: 40.4 s, now 3.4 s; measured)."""
        query = select(Run).where(Run.status == "running")
        live = self._heartbeat.beating()
        if 0 < len(live) <= LIVE_RUNS_FILTERED:
            query = query.where(Run.id.not_in(sorted(live)))
        return query

    def _reap(self, session: Session, here: liveness.ProcessIdentity) -> list[int]:
        """Mark failed the running runs that are abandoned (of `_suspects`)."""
        moment = now()
        reaped = []
        for run in session.scalars(self._suspects()):
            reason = liveness.abandoned_reason(run, here, moment, self.stale_after)
            if reason:
                run.status, run.error, run.finished_at = "failed", reason, moment
                reaped.append(run.id)
        return reaped

    def reap_abandoned(self) -> list[int]:
        """Mark failed every running run whose process is gone or whose heartbeat is stale;
        returns their ids. Takes the write lock only when there is something to mark."""
        here, moment = liveness.this_process(), now()
        with self._session() as session:
            suspects = session.scalars(self._suspects()).all()
            if not any(liveness.abandoned_reason(run, here, moment, self.stale_after) for run in suspects):
                return []
        with self._session(write=True) as session:
            return self._reap(session, here)

    def record_portal(
        self,
        run_id: int,
        city_id: str,
        platform: str,
        portal_url: str,
        snapshot: CatalogSnapshot,
        check_results: Sequence[CheckResult],
        entry_flags: Mapping[int, Sequence[str]] | None = None,
        renames: Sequence[tuple[int, Rename]] = (),
        reused: replay_reads.StoredResults | None = None,
        replay_notes: Mapping[str, Any] | None = None,
        task_runs: Mapping[str, str] | None = None,
        later_results: Callable[[], tuple[Sequence[CheckResult], Mapping[str, Any] | None]] | None = None,
        rows_in_child: bool = False,
    ) -> PortalWriteStats:
        """Snapshot, entries (datasets, versions, entry list) and check results of one portal,
        all or nothing. `entry_flags`: position -> flags of that entry (e.g. "invalid_utf8").
        `renames`: (dataset key, rename) from `history.observe`, applied before the entries.
        `reused`: the entry list and result sets kept from an unchanged earlier snapshot (its
        `check_results` then hold only the rest). `replay_notes`: what the next replay reads of this
        evaluation (the entries' metric statuses, the portal checks' inputs), kept with the snapshot.
        `task_runs`: step -> the Prefect task run behind it, on the snapshot row (no write of its own).
        `later_results`: called once `check_results` are written, in the same transaction: the
        results still to come (a pending outcome's portal checks) and the replay notes.
        `rows_in_child`: a forked child makes the check results' rows ahead (result_writes.py)."""
        with self._session(write=True) as session:
            require_run(session, run_id, city_id)
            portal_id = writes.ensure_portal(session, city_id, platform, portal_url)
            rename_writes.clear_renames(session, run_id, portal_id)
            writes.clear_portal_run(session, run_id, portal_id)
            rename_writes.apply_renames(session, run_id, portal_id, renames)
            if reused is None:
                entries = entry_writes.write_entries(
                    session, run_id, portal_id, snapshot.records, entry_flags
                )
            else:  # every page answered 304: the same entry list, and the version metrics' sets
                entries = entry_writes.stored_entries(session, run_id, reused.entry_list_id)
            result_set_ids, result_rows = result_writes.write_check_results(
                session, run_id, portal_id, check_results, entries, rows_in_child=rows_in_child
            )
            if later_results is not None:
                later, replay_notes = later_results()
                more_ids, more_rows = result_writes.write_check_results(
                    session, run_id, portal_id, later, entries, check_results, rows_in_child
                )
                result_set_ids, result_rows = sorted([*result_set_ids, *more_ids]), result_rows + more_rows
            if reused is not None:
                result_set_ids = sorted({*result_set_ids, *reused.set_ids.values()})
            snapshot_rows = writes.write_snapshot_row(
                session,
                run_id,
                portal_id,
                snapshot,
                entries.entry_list_id,
                result_set_ids,
                replay_notes,
                task_runs,
            )
            written = entries.stats.rows_written + result_rows + snapshot_rows
            return dataclasses.replace(entries.stats, rows_written=written)

    def record_portal_failure(
        self,
        run_id: int,
        city_id: str,
        platform: str,
        portal_url: str,
        error: str,
        task_runs: Mapping[str, str] | None = None,
    ) -> None:
        """A failed snapshot for this portal (replacing any earlier write of it in this run), with
        the Prefect task runs behind it (`task_runs`, as `record_portal` takes them)."""
        with self._session(write=True) as session:
            require_run(session, run_id, city_id)
            portal_id = writes.ensure_portal(session, city_id, platform, portal_url)
            rename_writes.clear_renames(session, run_id, portal_id)
            writes.clear_portal_run(session, run_id, portal_id)
            writes.write_failed_snapshot(session, run_id, portal_id, error, task_runs)

    def record_scores(self, run_id: int, city_id: str, scores: list[dict[str, Any]]) -> None:
        """The run's criterion scores, replacing any written before for this run (`thresholds`, the
        rules each was judged by, is optional: None when the caller has none)."""
        rows = _score_rows(scores)
        with self._session(write=True) as session:
            _write_scores(session, run_id, city_id, rows)

    def finish_run(self, run_id: int, status: str, error: str | None = None) -> None:
        _one_of("status", status, RUN_STATUSES)
        self._heartbeat.discard(run_id)
        with self._session(write=True) as session:
            _finish(session, run_id, status, error)

    def close_run(
        self, run_id: int, city_id: str, scores: list[dict[str, Any]], status: str, error: str | None = None
    ) -> None:
        """`record_scores` and `finish_run` in one transaction: the scores and the run's end are
        kept together or not at all, and a nightly closing hundreds of cities waits for SQLite's
        one writer once a city, not twice."""
        rows = _score_rows(scores)
        _one_of("status", status, RUN_STATUSES)
        self._heartbeat.discard(run_id)
        with self._session(write=True) as session:
            _write_scores(session, run_id, city_id, rows)
            _finish(session, run_id, status, error)

    # -- runs across Prefect: ids, a run's portals, retries ----------------------------------------

    def set_flow_run(self, run_id: int, flow_run_id: str | None) -> None:
        """Name the Prefect flow run that runs this warehouse run."""
        with self._session(write=True) as session:
            run_steps.set_flow_run(session, run_id, flow_run_id)

    def run_info(self, run_id: int) -> dict[str, Any]:
        """The run (as `runs` lists it) with its Prefect flow run and its portals' snapshots."""
        with self._session() as session:
            run = run_steps.run_row(session, run_id)
            info = reads.run_dict(run)
            info["prefect_flow_run_id"] = run.prefect_flow_run_id
            info["as_of_time"] = utc(run.as_of)
            info["portals"] = run_steps.run_portals(session, run_id)
            return info

    def run_evidence(self, run_id: int) -> dict[str, Any]:
        """portal url -> scoring.PortalEvidence rebuilt from this run's stored results."""
        with self._session() as session:
            return run_steps.run_evidence(session, run_id)

    def reopen_run(self, run_id: int) -> None:
        """Mark a finished run running again, in this process (a retry of some of its portals)."""
        here = liveness.this_process()
        with self._session(write=True) as session:
            run_steps.run_row(session, run_id)
            session.execute(
                update(Run)
                .where(Run.id == run_id)
                .values(
                    status="running",
                    finished_at=None,
                    host=here.host,
                    pid=here.pid,
                    process_started_at=here.started_at,
                    heartbeat_at=now(),
                )
            )
        self._heartbeat.add(run_id)

    # -- reads --------------------------------------------------------------------------------

    def runs(self, city_id: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """Newest first: id, city_id, kind, trigger, status, started_at, finished_at, as_of, error,
        host, pid, heartbeat_at. Abandoned runs are marked failed before they are listed."""
        self.reap_abandoned()
        with self._session() as session:
            return reads.runs(session, city_id, limit)

    def run(self, run_id: int) -> dict[str, Any] | None:
        """One run by id (the fields `runs` gives), or None."""
        with self._session() as session:
            return reads.run(session, run_id)

    def latest_run(
        self, city_id: str, status_in: tuple[str, ...] = ("succeeded", "partial")
    ) -> dict[str, Any] | None:
        with self._session() as session:
            return reads.latest_run(session, city_id, tuple(status_in))

    def city_report(self, city_id: str, run_id: int | None = None) -> dict[str, Any]:
        """city, run, portals, criteria, datasets (with their checks), portal_checks, and history
        (the trend over all runs, this run's changes since the previous one: trend_reads)."""
        with self._session() as session:
            report = report_reads.city_report(session, city_id, run_id)
            report["history"] = trend_reads.history_section(session, city_id, report["run"]["id"])
            return report

    def score_report(self, city_id: str, run_id: int) -> dict[str, Any]:
        """city, run, portals and criteria of a run: `city_report` without datasets or history."""
        with self._session() as session:
            return report_reads.score_report(session, city_id, run_id)

    def report_cities(self, city_ids: list[str] | None = None) -> list[tuple[str, str]]:
        """(id, name) of these cities, or of every city with a run, ordered by name."""
        with self._session() as session:
            return report_reads.report_cities(session, city_ids)

    def score_check_results(self, run_id: int, criterion_id: str) -> list[dict[str, Any]]:
        """The check result rows behind a score: portal, dataset_id and position of the entry judged
        (None: portal-level), check_id, status, value, reason."""
        with self._session() as session:
            return reads.score_check_results(session, run_id, criterion_id)

    def replay_source(
        self, city_id: str, platform: str, portal_url: str, before_run_id: int
    ) -> replay_reads.ReplaySource | None:
        """The portal's latest complete snapshot before the run, when its pages can be revalidated."""
        with self._session() as session:
            return replay_reads.replay_source(session, city_id, platform, portal_url, before_run_id)

    def replay_notes(self, snapshot_id: int) -> dict[str, Any] | None:
        """The notes the snapshot keeps on its evaluation (statuses, portal checks' inputs)."""
        with self._session() as session:
            return replay_reads.replay_notes(session, snapshot_id)

    def reused_snapshot(self, snapshot_id: int) -> CatalogSnapshot | None:
        """The snapshot's records rebuilt in catalog order (every page answered 304), or None."""
        with self._session() as session:
            return replay_reads.reused_snapshot(session, snapshot_id)

    def stored_results(
        self,
        snapshot_id: int,
        check_ids: Sequence[str],
        other_ids: Sequence[str] = (),
        unread_ids: Sequence[str] = (),
    ) -> replay_reads.StoredResults | None:
        """The snapshot's result sets of these checks and each entry's status (to reuse them), or None;
        the sets of `other_ids` that it has too, with their portal-level results (not those of
        `unread_ids`)."""
        with self._session() as session:
            return replay_reads.stored_results(session, snapshot_id, check_ids, other_ids, unread_ids)

    def last_harvests(self, city_ids: Sequence[str]) -> dict[tuple[str, str, str], tuple[int, int]]:
        """(city id, platform, portal key) -> (catalog pages, records) of its latest snapshot that
        read any, for the cities' portals that have one: how long a harvest of it waits on round
        trips, and how much of the memory budget it will take."""
        latest = (  # only these cities' portals' snapshots are grouped
            select(Snapshot.portal_id, func.max(Snapshot.id).label("snapshot_id"))
            .join(Portal, Portal.id == Snapshot.portal_id)
            .where(Portal.city_id.in_(list(city_ids)), Snapshot.pages.is_not(None), Snapshot.pages > 0)
            .group_by(Snapshot.portal_id)
            .subquery()
        )
        query = (
            select(Portal.city_id, Portal.platform, Portal.url, Snapshot.pages, Snapshot.assets)
            .join(latest, latest.c.portal_id == Portal.id)
            .join(Snapshot, Snapshot.id == latest.c.snapshot_id)
        )
        with self._session() as session:
            return {
                (city, platform, url): (pages, assets or 0)
                for city, platform, url, pages, assets in session.execute(query)
            }

    def previous_columns(
        self, city_id: str, platform: str, portal_url: str, before_run_id: int | None = None
    ) -> dict[str, list[str]]:
        """dataset_id -> column names in the portal's latest complete snapshot (for schema drift)."""
        with self._session() as session:
            return reads.previous_columns(session, city_id, platform, portal_url, before_run_id)

    def count_rows(self, table_name: str) -> int:
        table = Base.metadata.tables.get(table_name)
        if table is None:
            raise WarehouseError(
                f"no warehouse table {table_name!r}; tables: {', '.join(Base.metadata.tables)}"
            )
        with self._session() as session:
            return session.scalar(select(func.count()).select_from(table))


def _score_rows(scores: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for score in scores:
        optional = reads.OPTIONAL_SCORE_FIELDS
        missing = [f for f in reads.SCORE_FIELDS if f not in score and f not in optional]
        if missing:
            name = score.get("criterion_id", "?")
            raise WarehouseError(f"score for {name!r} lacks {', '.join(missing)}")
        row = {field: jsonable(score.get(field)) for field in reads.SCORE_FIELDS}
        rows.append({**row, "evidence": row["evidence"] or ""})
    return rows


def _write_scores(session: Session, run_id: int, city_id: str, rows: list[dict[str, Any]]) -> None:
    require_run(session, run_id, city_id)
    session.execute(delete(CriterionScore).where(CriterionScore.run_id == run_id))
    result_writes.write_scores(session, run_id, city_id, rows)


def _start(
    session: Session,
    here: liveness.ProcessIdentity,
    city_id: str,
    city_name: str,
    kind: str,
    trigger: str,
    as_of: datetime,
    flow_run_id: str | None,
) -> int:
    """The city row (its name kept current) and a new running run of it; the run's id."""
    city = session.get(City, city_id)
    if city is None:
        writes.insert_ignoring_conflicts(session, City, {"id": city_id, "name": city_name}, ["id"])
    elif city.name != city_name:
        city.name = city_name
    values = {
        "city_id": city_id,
        "kind": kind,
        "trigger": trigger,
        "status": "running",
        "started_at": now(),
        "as_of": utc(as_of),
        "host": here.host,
        "pid": here.pid,
        "process_started_at": here.started_at,
        "heartbeat_at": now(),
        "prefect_flow_run_id": flow_run_id,
    }
    return session.scalar(insert(Run).returning(Run.id), values)


def _finish(session: Session, run_id: int, status: str, error: str | None) -> None:
    done = session.execute(
        update(Run)
        .where(Run.id == run_id)
        .values(status=status, error=error, finished_at=now(), heartbeat_at=now())
    )
    if done.rowcount == 0:
        raise WarehouseError(f"run {run_id} not found")
