"""A directory of archived catalog snapshots (`wwc backfill --snapshots DIR`), in as-of order.

Either a `MANIFEST.tsv` with `file`, `platform` and `as_of` columns (other columns are ignored;
a platform of `auto` or empty is detected from the file), or files named `YYYYMMDD.json` whose
platform is detected. A bad entry (missing file, bad date, not JSON, unknown shape) is reported
in one line and skipped; the rest load.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from wwc_pipeline import registry
from wwc_pipeline.model import DatasetRecord
from wwc_pipeline.offline import detect_platform, read_document
from wwc_pipeline.text import parse_time

MANIFEST = "MANIFEST.tsv"
MANIFEST_COLUMNS = ("file", "platform", "as_of")
DATED_NAME = re.compile(r"^(\d{8})\.json$")


@dataclass(frozen=True)
class SnapshotFile:
    """One snapshot as listed: where it is, when it was captured, its platform if stated."""

    path: Path
    as_of: datetime
    platform: str | None = None  # None: detected from the file's shape


@dataclass
class LoadedSnapshot:
    """One snapshot read and normalized; `digest` (SHA-256 of the file) tells two files apart."""

    path: Path
    as_of: datetime
    platform: str
    digest: str
    records: list[DatasetRecord]

    @property
    def datasets(self) -> list[DatasetRecord]:
        return [record for record in self.records if record.is_dataset]


@dataclass(frozen=True)
class SnapshotProblem:
    """A snapshot that could not be used, and why (one line)."""

    path: Path
    reason: str

    def __str__(self) -> str:
        return f"{self.path.name}: {self.reason}"


def list_snapshots(directory: Path) -> tuple[list[SnapshotFile], list[SnapshotProblem]]:
    """The snapshots of a directory in as-of order (then by file name), and the entries refused.

    Raises ValueError (one line) when the directory itself cannot be used.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise ValueError(f"snapshot directory {directory} not found; pass a folder of YYYYMMDD.json files")
    manifest = directory / MANIFEST
    found, problems = _from_manifest(manifest) if manifest.is_file() else _from_names(directory)
    found.sort(key=lambda entry: (entry.as_of, entry.path.name))
    if not found and not problems:
        raise ValueError(
            f"{directory} holds no snapshots: add a {MANIFEST} (file, platform, as_of) or YYYYMMDD.json files"
        )
    return found, problems


def _from_manifest(manifest: Path) -> tuple[list[SnapshotFile], list[SnapshotProblem]]:
    with manifest.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle, delimiter="\t")
        missing = [column for column in MANIFEST_COLUMNS if column not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(
                f"{manifest} lacks the column(s) {', '.join(missing)}; it needs tab-separated "
                f"{', '.join(MANIFEST_COLUMNS)}"
            )
        rows = list(reader)
    found: list[SnapshotFile] = []
    problems: list[SnapshotProblem] = []
    for number, row in enumerate(rows, start=2):  # line 1 is the header
        name = (row.get("file") or "").strip()
        if not name:
            problems.append(SnapshotProblem(manifest, f"line {number} names no file"))
            continue
        path = manifest.parent / name
        as_of = _manifest_time(row.get("as_of"))
        platform = (row.get("platform") or "").strip() or None
        if as_of is None:
            problems.append(
                SnapshotProblem(path, f"bad as_of {row.get('as_of')!r} in {MANIFEST}; use YYYY-MM-DD")
            )
        elif not path.is_file():
            problems.append(SnapshotProblem(path, f"listed in {MANIFEST} but not found"))
        else:
            found.append(SnapshotFile(path, as_of, None if platform == "auto" else platform))
    return found, problems


def _manifest_time(value: str | None) -> datetime | None:
    """A date (midnight UTC) or an ISO date-time; a bare number is not a capture date."""
    value = (value or "").strip()
    return parse_time(value) if value and not value.isdigit() else None


def _from_names(directory: Path) -> tuple[list[SnapshotFile], list[SnapshotProblem]]:
    found: list[SnapshotFile] = []
    problems: list[SnapshotProblem] = []
    for path in sorted(directory.glob("*.json")):
        match = DATED_NAME.match(path.name)
        if not match:
            problems.append(SnapshotProblem(path, "not named YYYYMMDD.json and no MANIFEST.tsv lists it"))
            continue
        try:
            as_of = datetime.strptime(match.group(1), "%Y%m%d").replace(tzinfo=UTC)
        except ValueError:
            problems.append(SnapshotProblem(path, f"bad date {match.group(1)!r} in the file name"))
            continue
        found.append(SnapshotFile(path, as_of))
    return found, problems


class SnapshotError(ValueError):
    """One snapshot that cannot be used; `reason` is the line a user reads after the file name."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path.name}: {reason}")
        self.problem = SnapshotProblem(path, reason)


def _reason(error: ValueError, path: Path) -> str:
    """The first line of a reader's message, without the path it starts with."""
    lines = str(error).strip().splitlines()
    line = lines[0] if lines else type(error).__name__
    for prefix in (f"catalog file {path} ", f"{path}: "):
        line = line.removeprefix(prefix)
    return line.replace("pass --platform explicitly", f"name its platform in {MANIFEST}")


PortalOf = Callable[[str], str | None]  # platform -> the portal domain its records belong to


def load_snapshot(entry: SnapshotFile, portal_of: PortalOf | None = None) -> LoadedSnapshot:
    """Read and normalize one snapshot; SnapshotError (one line) when it cannot be used.

    `portal_of(platform)` names the portal (domain) the records belong to, as a live harvest
    would; it may raise ValueError (no such portal configured), reported as the file's problem.
    """
    try:
        document = read_document(entry.path)
        platform = entry.platform or detect_platform(document, entry.path)
        connector = registry.get_connector(platform)
        portal = portal_of(platform) if portal_of else None
    except ValueError as error:
        raise SnapshotError(entry.path, _reason(error, entry.path)) from None
    if not connector.looks_like(document):
        raise SnapshotError(entry.path, f"does not look like a {platform} catalog; check {MANIFEST}")
    try:
        records = connector.records_from_document(document, portal)
    except ValueError as error:
        raise SnapshotError(entry.path, _reason(error, entry.path)) from None
    digest = hashlib.sha256(entry.path.read_bytes()).hexdigest()
    return LoadedSnapshot(entry.path, entry.as_of, platform, digest, records)


def read_snapshots(
    directory: Path, portal_of: PortalOf | None = None
) -> Iterator[LoadedSnapshot | SnapshotProblem]:
    """Every snapshot of a directory, loaded one at a time in as-of order; problems in their place.

    The listing's problems come first (a refused entry has no place in the order).
    """
    entries, problems = list_snapshots(directory)
    yield from problems
    for entry in entries:
        try:
            yield load_snapshot(entry, portal_of)
        except SnapshotError as error:
            yield error.problem
