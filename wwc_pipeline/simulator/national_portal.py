"""One portal of the national simulator: its own address, a catalog generated only when asked.

Half a million rendered datasets do not fit in memory comfortably, and most portals sit idle
most of a run. A `HostedPortal` generates its catalog on its first request that needs it and
gives it back when `CatalogPool` runs over its budget (least recently used first, never while a
request is in flight). Changes (`touch`, `add`, `remove`) are kept as a log and replayed on the
next generation, so a catalog given back and generated again is the same, byte for byte.
The platform apps and their faults are the ordinary simulator's (`SimulatedPortal`, not
listening itself: the national server hands it the requests).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import datetime
from typing import Any

from wwc_pipeline.simulator.catalog import GeneratedCatalog
from wwc_pipeline.simulator.common import Request, Response
from wwc_pipeline.simulator.conditional import entity_tag, is_catalog_request, not_modified, validators
from wwc_pipeline.simulator.faults import Faults
from wwc_pipeline.simulator.generator import as_epoch
from wwc_pipeline.simulator.national_plan import PortalSpec
from wwc_pipeline.simulator.requestlog import LoggedRequest, RequestLog
from wwc_pipeline.simulator.server import SimulatedPortal


class CatalogPool:
    """The portals holding a generated catalog, within a budget of datasets."""

    def __init__(self, budget_datasets: int) -> None:
        if budget_datasets < 1:
            raise ValueError(f"the catalog budget must be 1 dataset or more, got {budget_datasets}")
        self.budget = budget_datasets
        self.evictions = 0
        self._held: OrderedDict[int, HostedPortal] = OrderedDict()
        self._lock = threading.Lock()

    def used(self, portal: HostedPortal) -> None:
        """`portal` holds its catalog and was just used; give back others' while over budget."""
        with self._lock:
            self._held[portal.spec.index] = portal
            self._held.move_to_end(portal.spec.index)
            held = sum(p.spec.datasets for p in self._held.values())
            for index, other in list(self._held.items()):
                if held <= self.budget:
                    break
                if other is portal or other.in_flight or not other.release():
                    continue
                del self._held[index]
                held -= other.spec.datasets
                self.evictions += 1

    def forget(self, portal: HostedPortal) -> None:
        with self._lock:
            self._held.pop(portal.spec.index, None)

    @property
    def datasets_held(self) -> int:
        with self._lock:
            return sum(p.spec.datasets for p in self._held.values())


class HostedPortal:
    """A portal at `url` (its own loopback address); `handle` answers one request."""

    def __init__(
        self,
        spec: PortalSpec,
        address: str,
        port: int,
        as_of: datetime,
        identity: str,
        pool: CatalogPool,
    ) -> None:
        self.spec = spec
        self.platform = spec.platform
        self.address = address
        self.url = f"http://{address}:{port}"
        self.latency_s: float | None = None  # None: the simulator's latency
        self._as_of = as_of
        self._identity = f"{identity}:{spec.index}"
        self._pool = pool
        self._placeholder = GeneratedCatalog(size=0, name=spec.city_name, as_of=as_of, include_policy=False)
        self._inner = SimulatedPortal(spec.platform, self._placeholder, None, address, port, listen=False)
        self._catalog: GeneratedCatalog | None = None
        self._mutations: list[tuple[str, dict[str, Any]]] = []
        self._modified = as_epoch(as_of)
        self._faulted = False
        self._lock = threading.Lock()
        self.generations = 0  # how often the catalog was generated (again)
        # Counters, changed by the server's event loop only.
        self.in_flight = 0
        self.max_in_flight = 0
        self.served = 0
        self.not_modified = 0

    # --- the catalog ---------------------------------------------------------------------------
    @property
    def version(self) -> int:
        """Bumped by every change: part of every page's ETag."""
        return len(self._mutations)

    @property
    def last_modified(self) -> int:
        """Epoch seconds of the last change (or of the catalog's `as_of`), strictly increasing."""
        return self._modified

    def catalog(self) -> GeneratedCatalog:
        """The generated catalog, generated now if it is not held."""
        with self._lock:
            catalog = self._catalog
            if catalog is None:
                catalog = GeneratedCatalog(
                    size=self.spec.datasets,
                    seed=self.spec.seed,
                    share_stale=self.spec.share_stale,
                    share_missing_metadata=self.spec.share_missing_metadata,
                    name=self.spec.city_name,
                    as_of=self._as_of,
                    include_policy=self.spec.include_policy,
                )
                for operation, arguments in self._mutations:
                    getattr(catalog, operation)(**arguments)
                self._inner.set_catalog(catalog)
                self._catalog = catalog
                self.generations += 1
        self._pool.used(self)
        return catalog

    @property
    def held(self) -> bool:
        return self._catalog is not None

    def release(self) -> bool:
        """Give the generated catalog back (False when it is being generated right now)."""
        if not self._lock.acquire(blocking=False):
            return False
        try:
            self._inner.set_catalog(self._placeholder)
            self._catalog = None
            return True
        finally:
            self._lock.release()

    def touch(self, n: int, at: datetime | None = None, seed: int = 0) -> None:
        """Change `n` datasets (see `GeneratedCatalog.touch`)."""
        self._change("touch", {"n": n, "at": at, "seed": seed}, at)

    def add(self, n: int, at: datetime | None = None) -> None:
        self._change("add", {"n": n, "at": at}, at)

    def remove(self, n: int, seed: int = 0) -> None:
        self._change("remove", {"n": n, "seed": seed}, None)

    def _change(self, operation: str, arguments: dict[str, Any], at: datetime | None) -> None:
        with self._lock:
            self._mutations.append((operation, arguments))
            moment = as_epoch(at) if at is not None else self._modified
            self._modified = max(moment, self._modified + 1)
            if self._catalog is not None:
                getattr(self._catalog, operation)(**arguments)

    # --- faults and requests ---------------------------------------------------------------------
    def set_faults(self, faults: Faults) -> None:
        """Faults as the ordinary simulator applies them (their `latency_s` blocks a worker thread:
        use the portal's `latency_s` for latency)."""
        self._inner.set_faults(faults)
        self._faulted = faults != Faults()

    @property
    def requests(self) -> RequestLog:
        return self._inner.requests

    def catalog_requests(self) -> int:
        """Requests served for catalog listings (pages), 304s included."""
        return sum(1 for item in self.requests if is_catalog_request(self.platform, item.method, item.path))

    def reset_counters(self) -> None:
        """Start counting afresh (between two runs of a benchmark)."""
        self.requests.clear()
        self.max_in_flight = self.in_flight
        self.served = self.not_modified = 0

    def handle(self, request: Request) -> Response:
        """Answer one request: 304 from the validators alone when they match, else the platform app."""
        conditional = self.spec.conditional != "none" and is_catalog_request(
            self.platform, request.method, request.path
        )
        sent: dict[str, str] = {}
        if conditional:
            etag = entity_tag(self._identity, self.version, request.path, request.query)
            sent = validators(self.spec.conditional, etag, self.last_modified)
            if not self._faulted and not_modified(request.headers, sent, self.last_modified):
                self.requests.add(LoggedRequest(request.method, request.path, request.query, None, 304))
                return Response(304, b"", headers=sent)
        self.catalog()
        response = self._inner.handle(request)
        if conditional and response.status == 200:
            if not_modified(request.headers, sent, self.last_modified):
                return Response(304, b"", headers=sent)
            response.headers.update(sent)
        return response

    def close(self) -> None:
        self._pool.forget(self)
        self.release()

    def __repr__(self) -> str:
        spec = self.spec
        return (
            f"HostedPortal({spec.platform!r}, {self.url!r}, city={spec.city_id!r}, datasets={spec.datasets})"
        )
