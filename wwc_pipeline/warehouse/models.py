"""Warehouse tables (DESIGN.md "Warehouse"): SQLAlchemy 2 declarative models.

Statuses and kinds are short strings guarded by CHECK constraints rather than native enums,
so that adding a value is a one-line migration on both SQLite and PostgreSQL.
Datasets do not point at their current version row (that would be a foreign-key cycle); they
keep its number and hash, and versions are unique per (dataset, version).
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
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

RUN_KINDS = ("nightly", "rescan", "demo", "evaluate")
RUN_TRIGGERS = ("schedule", "cli", "deployment", "demo")
RUN_STATUSES = ("running", "succeeded", "failed", "partial")
SNAPSHOT_STATUSES = ("complete", "failed")
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
    __tablename__ = "runs"
    __table_args__ = (
        _one_of("kind", RUN_KINDS),
        _one_of("trigger", RUN_TRIGGERS),
        _one_of("status", RUN_STATUSES),
        Index("ix_runs_city_id_id", "city_id", "id"),
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


class Snapshot(Base):
    """One harvest of one portal in one run; only `complete` snapshots count as evidence."""

    __tablename__ = "snapshots"
    __table_args__ = (UniqueConstraint("run_id", "portal_id"), _one_of("status", SNAPSHOT_STATUSES))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    portal_id: Mapped[int] = mapped_column(ForeignKey("portals.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    assets: Mapped[int] = mapped_column(Integer, default=0)
    datasets: Mapped[int] = mapped_column(Integer, default=0)
    pages: Mapped[int] = mapped_column(Integer, default=0)
    page_digests: Mapped[list[str]] = mapped_column(JSONType, default=list)
    warnings: Mapped[list[str]] = mapped_column(JSONType, default=list)
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime | None] = mapped_column(UtcTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcTime)


class Dataset(Base):
    """A dataset as the warehouse knows it across runs (one row per portal and dataset id)."""

    __tablename__ = "datasets"
    __table_args__ = (UniqueConstraint("portal_id", "dataset_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    portal_id: Mapped[int] = mapped_column(ForeignKey("portals.id", ondelete="CASCADE"))
    dataset_id: Mapped[str] = mapped_column(Text)
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


class SnapshotDataset(Base):
    """Which dataset, at which version, a snapshot listed, in catalog order."""

    __tablename__ = "snapshot_datasets"
    __table_args__ = (UniqueConstraint("snapshot_id", "dataset_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("snapshots.id", ondelete="CASCADE"))
    dataset_id: Mapped[int] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer)


class CheckResultRow(Base):
    """One check's outcome for one dataset, or for the portal when `dataset_id` is null."""

    __tablename__ = "check_results"
    __table_args__ = (
        _one_of("status", CHECK_STATUSES),
        Index("ix_check_results_run_id_portal_id", "run_id", "portal_id"),
        Index("ix_check_results_run_id_check_id", "run_id", "check_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    portal_id: Mapped[int] = mapped_column(ForeignKey("portals.id", ondelete="CASCADE"))
    dataset_id: Mapped[int | None] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"), index=True)
    check_id: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(8))
    value: Mapped[Any] = mapped_column(JSONType, nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")


class CriterionScore(Base):
    """A criterion's score for a city in a run; `check_ids` names the check results behind it."""

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
