"""Warehouse tables (DESIGN.md "Warehouse"): SQLAlchemy 2 declarative models.

Statuses and kinds are short strings guarded by CHECK constraints rather than native enums,
so that adding a value is a one-line migration on both SQLite and PostgreSQL.
Datasets do not point at their current version row (that would be a foreign-key cycle); they
keep its number and hash, and versions are unique per (dataset, version).

Traceability: a dataset's identity is (portal, dataset_id, occurrence), the k-th listing of an
id within one snapshot being occurrence k, so every catalog entry is a row of its own. What a
snapshot listed is an *entry list* and what its checks said are *result sets* (one per check);
both are content-addressed (a digest of their members) and shared by every snapshot with the
same content, and check results are content-addressed too, so an unchanged re-run writes no
list, no entry and no result again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

RUN_KINDS = ("nightly", "rescan", "demo", "evaluate", "backfill")
RUN_TRIGGERS = ("schedule", "cli", "deployment", "demo")
RUN_STATUSES = ("running", "succeeded", "failed", "partial")
SNAPSHOT_STATUSES = ("complete", "complete_with_warnings", "failed")
COMPLETE_STATUSES = ("complete", "complete_with_warnings")  # snapshots that count as evidence
CHECK_STATUSES = ("pass", "fail", "na")

# JSONB on PostgreSQL (indexable, compact), plain JSON text elsewhere.
JSONType = JSON().with_variant(JSONB(), "postgresql")
# 64-bit ids where rows pile up night after night; SQLite only autoincrements INTEGER keys.
BigId = BigInteger().with_variant(Integer(), "sqlite")
UtcTime = DateTime(timezone=True)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _one_of(column: str, values: tuple[str, ...]) -> CheckConstraint:
    allowed = ", ".join(f"'{value}'" for value in values)
    return CheckConstraint(f"{column} IN ({allowed})", name=column)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class City(Base):
    __tablename__ = "cities"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


class Portal(Base):
    __tablename__ = "portals"
    __table_args__ = (UniqueConstraint("city_id", "platform", "url"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    city_id: Mapped[str] = mapped_column(ForeignKey("cities.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(32))
    url: Mapped[str] = mapped_column(Text)
    domain: Mapped[str] = mapped_column(String(255))


class Run(Base):
    """One scan of one city. `host`, `pid`, `process_started_at` and `heartbeat_at` say which
    process runs it and when it last showed life, so that a run whose process died can be told
    from one still going (liveness.py)."""

    __tablename__ = "runs"
    __table_args__ = (
        _one_of("kind", RUN_KINDS),
        _one_of("trigger", RUN_TRIGGERS),
        _one_of("status", RUN_STATUSES),
        Index("ix_runs_city_id_id", "city_id", "id"),
        Index("ix_runs_city_id_as_of", "city_id", "as_of"),  # history runs in as-of order
        Index("ix_runs_status", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    city_id: Mapped[str] = mapped_column(ForeignKey("cities.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    trigger: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(UtcTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcTime)
    as_of: Mapped[datetime] = mapped_column(UtcTime)
    error: Mapped[str | None] = mapped_column(Text)
    host: Mapped[str | None] = mapped_column(String(255))
    pid: Mapped[int | None] = mapped_column(Integer)
    process_started_at: Mapped[datetime | None] = mapped_column(UtcTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UtcTime)
    prefect_flow_run_id: Mapped[str | None] = mapped_column(String(64))  # the flow run behind it


class EntryList(Base):
    """The ordered (dataset, version, flags) entries of a harvest, stored once per distinct content."""

    __tablename__ = "entry_lists"
    __table_args__ = (UniqueConstraint("portal_id", "digest"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    portal_id: Mapped[int] = mapped_column(ForeignKey("portals.id", ondelete="CASCADE"))
    digest: Mapped[str] = mapped_column(String(64))
    entries: Mapped[int] = mapped_column(Integer)
    first_run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"), index=True)


class ResultSet(Base):
    """One check's results in a snapshot, stored once per distinct set (digest of the members).

    A snapshot holds one set per check (snapshot_result_sets), so a result that changes (a
    dataset turning stale, a count over the past year) makes a new set of its own check only.
    """

    __tablename__ = "result_sets"
    __table_args__ = (UniqueConstraint("portal_id", "digest"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    portal_id: Mapped[int] = mapped_column(ForeignKey("portals.id", ondelete="CASCADE"))
    check_id: Mapped[str] = mapped_column(String(100))
    digest: Mapped[str] = mapped_column(String(64))
    results: Mapped[int] = mapped_column(Integer)
    first_run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"), index=True)


class Snapshot(Base):
    """One harvest of one portal in one run; only complete snapshots (with or without warnings)
    count as evidence. It lists its entries through `entry_list_id` and its check results
    through its result sets (snapshot_result_sets); a failed harvest has neither."""

    __tablename__ = "snapshots"
    __table_args__ = (UniqueConstraint("run_id", "portal_id"), _one_of("status", SNAPSHOT_STATUSES))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    portal_id: Mapped[int] = mapped_column(ForeignKey("portals.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(32))
    assets: Mapped[int] = mapped_column(Integer, default=0)
    datasets: Mapped[int] = mapped_column(Integer, default=0)
    pages: Mapped[int] = mapped_column(Integer, default=0)
    page_digests: Mapped[list[str]] = mapped_column(JSONType, default=list)
    warnings: Mapped[list[str]] = mapped_column(JSONType, default=list)
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime | None] = mapped_column(UtcTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcTime)
    entry_list_id: Mapped[int | None] = mapped_column(ForeignKey("entry_lists.id"), index=True)
    # step (harvest, evaluate, write) -> the Prefect task run that did it
    prefect_task_runs: Mapped[dict[str, str] | None] = mapped_column(JSONType)
    # how to ask for the same catalog pages again (their validators) and the assets that are not
    # datasets, so that a catalog whose every page answers 304 is rebuilt without a page read
    harvest_replay: Mapped[dict[str, Any] | None] = mapped_column(JSONType)


class SnapshotResultSet(Base):
    """Which result sets (one per check) hold a snapshot's check results."""

    __tablename__ = "snapshot_result_sets"

    snapshot_id: Mapped[int] = mapped_column(ForeignKey("snapshots.id", ondelete="CASCADE"), primary_key=True)
    result_set_id: Mapped[int] = mapped_column(ForeignKey("result_sets.id"), primary_key=True, index=True)


class Dataset(Base):
    """A catalog entry as the warehouse knows it across runs: the `occurrence`-th listing of
    `dataset_id` on the portal (1 unless a snapshot lists the id more than once)."""

    __tablename__ = "datasets"
    __table_args__ = (UniqueConstraint("portal_id", "dataset_id", "occurrence"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    portal_id: Mapped[int] = mapped_column(ForeignKey("portals.id", ondelete="CASCADE"))
    dataset_id: Mapped[str] = mapped_column(Text)
    occurrence: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    title: Mapped[str | None] = mapped_column(Text)
    first_seen_run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"))
    last_seen_run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"))
    current_version: Mapped[int] = mapped_column(Integer)
    current_hash: Mapped[str] = mapped_column(String(64))


class DatasetVersion(Base):
    """The normalized record, stored again only when its content hash changes."""

    __tablename__ = "dataset_versions"
    __table_args__ = (UniqueConstraint("dataset_id", "version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    title: Mapped[str | None] = mapped_column(Text)
    record: Mapped[dict[str, Any]] = mapped_column(JSONType)
    first_run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"), index=True)


class SnapshotEntry(Base):
    """One dataset entry of an entry list at its position (index in the harvest's record list).

    A repeated id is kept as an entry of its own (its own dataset row, occurrence 2, 3...) and
    points at the position of the id's first listing; `flags` marks anything odd about the
    entry (e.g. "invalid_utf8")."""

    __tablename__ = "snapshot_entries"

    entry_list_id: Mapped[int] = mapped_column(
        ForeignKey("entry_lists.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"), index=True)
    dataset_version_id: Mapped[int] = mapped_column(
        ForeignKey("dataset_versions.id", ondelete="CASCADE"), index=True
    )
    repeat_of_position: Mapped[int | None] = mapped_column(Integer)
    flags: Mapped[list[str]] = mapped_column(JSONType)


class CheckResultRow(Base):
    """One check's outcome, written once per distinct content (`digest`): about a dataset
    version (`dataset_version_id`), or about the portal when that is null. Runs reach their
    results through their snapshots' result sets."""

    __tablename__ = "check_results"
    __table_args__ = (
        _one_of("status", CHECK_STATUSES),
        UniqueConstraint("portal_id", "digest"),  # by portal: a portal's writes stay in its part
        Index("ix_check_results_portal_id_check_id", "portal_id", "check_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    portal_id: Mapped[int] = mapped_column(ForeignKey("portals.id", ondelete="CASCADE"))
    dataset_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("dataset_versions.id", ondelete="CASCADE"), index=True
    )
    check_id: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(8))
    value: Mapped[Any] = mapped_column(JSONType, nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    digest: Mapped[str] = mapped_column(String(64))
    first_run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"), index=True)


class ResultSetMember(Base):
    __tablename__ = "result_set_members"

    result_set_id: Mapped[int] = mapped_column(
        ForeignKey("result_sets.id", ondelete="CASCADE"), primary_key=True
    )
    check_result_id: Mapped[int] = mapped_column(
        ForeignKey("check_results.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class CriterionScore(Base):
    """A criterion's score for a city in a run; `criterion_score_checks` links it to its checks
    (`check_ids` keeps the same list as JSON for the reports)."""

    __tablename__ = "criterion_scores"
    __table_args__ = (UniqueConstraint("run_id", "criterion_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    city_id: Mapped[str] = mapped_column(ForeignKey("cities.id", ondelete="CASCADE"), index=True)
    criterion_id: Mapped[str] = mapped_column(String(64))
    component: Mapped[str] = mapped_column(String(32))
    current: Mapped[list[str]] = mapped_column(JSONType)
    title: Mapped[str] = mapped_column(Text)
    score: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(32))
    evidence: Mapped[str] = mapped_column(Text, default="")
    counts: Mapped[dict[str, Any]] = mapped_column(JSONType)
    worst_datasets: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    portal_breakdown: Mapped[dict[str, Any]] = mapped_column(JSONType)
    check_ids: Mapped[list[str]] = mapped_column(JSONType)
    # the rules the score was judged by (met, partial, min_datasets...); None: scored before 0003
    thresholds: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)


class CriterionScoreCheck(Base):
    """Which checks a score was derived from: score -> check id -> the run's result sets."""

    __tablename__ = "criterion_score_checks"

    score_id: Mapped[int] = mapped_column(
        ForeignKey("criterion_scores.id", ondelete="CASCADE"), primary_key=True
    )
    check_id: Mapped[str] = mapped_column(String(100), primary_key=True)


class DatasetRename(Base):
    """A dataset listed under a new identifier (history/identity.py matched it, by `rule`).

    The dataset row keeps its identity: its `dataset_id` becomes the new identifier and this row
    records the change, so no rename is ever silent. When the new identifier already had a row
    of its own (an older snapshot loaded after newer runs), the two rows stay and
    `from_dataset_id` links the old one to it.
    """

    __tablename__ = "dataset_renames"
    __table_args__ = (Index("ix_dataset_renames_portal_id_run_id", "portal_id", "run_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    portal_id: Mapped[int] = mapped_column(ForeignKey("portals.id", ondelete="CASCADE"))
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"), index=True)
    from_dataset_id: Mapped[int | None] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"))
    old_identifier: Mapped[str] = mapped_column(Text)
    new_identifier: Mapped[str] = mapped_column(Text)
    rule: Mapped[str] = mapped_column(String(32))
