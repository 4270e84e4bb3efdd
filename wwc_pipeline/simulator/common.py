"""Plumbing shared by the platform modules: requests, responses, cached rendered documents."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import formatdate
from typing import Any

from wwc_pipeline.simulator.generator import Entry

JSON = "application/json; charset=utf-8"


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)

    def arg(self, name: str, default: str | None = None) -> str | None:
        """The last value of a query parameter."""
        values = self.query.get(name)
        return values[-1] if values else default

    def args(self, name: str) -> list[str]:
        """Every value of a repeated (or comma-separated) parameter."""
        return [
            part.strip() for value in self.query.get(name, []) for part in value.split(",") if part.strip()
        ]

    def json_body(self) -> Any:
        return json.loads(self.body) if self.body.strip() else None


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str = JSON
    headers: dict[str, str] = field(default_factory=dict)
    drip_interval_s: float = 0.0  # > 0: the body goes out one byte at a time, this far apart


def dumps(value: Any) -> bytes:
    """Compact, key-order-preserving JSON: same value, same bytes."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def json_response(value: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(status, dumps(value), JSON, dict(headers or {}))


def raw_response(body: bytes, status: int = 200, content_type: str = JSON) -> Response:
    return Response(status, body, content_type)


def iso_z(seconds: int) -> str:
    """Socrata / Hub style: 2025-08-25T04:49:06.000Z."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def iso_naive(seconds: int) -> str:
    """CKAN style: naive UTC isoformat with microseconds."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


def iso_offset(seconds: int) -> str:
    """OpenDataSoft style: 2025-08-25T04:49:06+00:00."""
    return datetime.fromtimestamp(seconds, UTC).isoformat()


def http_date(seconds: int) -> str:
    return formatdate(seconds, usegmt=True)


def parse_int(value: str | None, default: int) -> int:
    """An integer parameter; ValueError (with the raw value) when it is not one."""
    if value is None or value == "":
        return default
    return int(value.strip())


@dataclass(frozen=True)
class Doc:
    """One rendered catalog document: its entry (None when recorded), parsed and serialized."""

    id: str
    obj: Any
    raw: bytes
    entry: Entry | None = None


class DocSet:
    """The rendered documents of one shape for one portal, rebuilt only when the catalog changes.

    Generated catalogs render each entry once per revision (`render` returns None to leave an
    entry out of this shape); recorded catalogs serialize their items once.
    """

    def __init__(
        self,
        catalog: Any,
        render: Callable[[Entry], Any] | None,
        ident: Callable[[Any], str],
        recorded: list | None = None,
    ) -> None:
        self._catalog = catalog
        self._render = render
        self._ident = ident
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[int, Doc | None]] = {}
        self._version = -1
        self._docs: list[Doc] = []
        self._derived: dict[str, Any] = {}
        if recorded is not None:
            self._docs = [Doc(str(ident(item)), item, dumps(item)) for item in recorded]
            self._version = 0

    def current(self) -> list[Doc]:
        if self._render is None:
            return self._docs
        with self._lock:
            version, entries = self._catalog.snapshot()
            if version != self._version:
                self._docs = [doc for doc in (self._doc(entry) for entry in entries) if doc is not None]
                self._version = version
                self._derived = {}
            return self._docs

    def derived(self, name: str, build: Callable[[list[Doc]], Any]) -> Any:
        """A value computed from the current documents (an index, a sort order), cached per version."""
        docs = self.current()
        with self._lock:
            if name not in self._derived:
                self._derived[name] = build(docs)
            return self._derived[name]

    def by_id(self) -> dict[str, Doc]:
        return self.derived("by_id", lambda docs: {doc.id: doc for doc in docs})

    def _doc(self, entry: Entry) -> Doc | None:
        cached = self._cache.get(entry.key)
        if cached is not None and cached[0] == entry.revision:
            return cached[1]
        revision = entry.revision  # read first: a change during rendering re-renders next time
        obj = self._render(entry)
        doc = None if obj is None else Doc(str(self._ident(obj)), obj, dumps(obj), entry)
        self._cache[entry.key] = (revision, doc)
        return doc


def join_docs(docs: list[Doc]) -> bytes:
    return b"[" + b",".join(doc.raw for doc in docs) + b"]"


@dataclass(frozen=True)
class Site:
    """Where the documents say they live: the base URL written inside them, and the city."""

    base_url: str
    city: str

    @property
    def domain(self) -> str:
        return self.base_url.split("://", 1)[-1].split("/", 1)[0]

    def file_url(self, entry: Entry, extension: str) -> str:
        """A download link the simulator answers (404 for entries with broken links)."""
        return f"{self.base_url}/files/{entry.key}/{entry.slug}.{extension}"

    def page_url(self, entry: Entry) -> str:
        return f"{self.base_url}/datasets/{entry.slug}"
