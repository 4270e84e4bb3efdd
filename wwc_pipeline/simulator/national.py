"""The national simulator: hundreds of portals served by one server, each on its own address.

    plan = national_plan(85)                      # 10 % of the national size
    with NationalSimulator(plan, latency_s=0.1) as sim:
        sim.write_cities_file("cities.yaml")     # every city, every portal's URL
        ...                                       # harvest them
        sim.max_in_flight()                       # the most requests one host had at once

Portal i listens on its own loopback address (127.0.1.1, 127.0.1.2, ... 127.0.4.96: Linux routes
all of 127.0.0.0/8 to the loopback interface), all on one port, so a client's per-host limits
are real limits. One asyncio event loop (uvicorn, one listening socket per address) accepts every
connection and waits out the latency of each request without a thread; the platform apps run in
a small thread pool. The server records, per host, the requests served, the 304s among them and
the most requests ever in flight at once (from arrival to the last byte of the answer).
"""

from __future__ import annotations

import asyncio
import contextlib
import resource
import socket
import threading
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import uvicorn
from requests.structures import CaseInsensitiveDict

from wwc_pipeline.simulator.common import Request, Response, json_response
from wwc_pipeline.simulator.national_cities import cities_document, portal_address, write_cities_file
from wwc_pipeline.simulator.national_plan import NationalPlan
from wwc_pipeline.simulator.national_portal import CatalogPool, HostedPortal

DEFAULT_BUDGET_DATASETS = 100_000
START_TIMEOUT_S = 30.0


class NationalSimulator:
    """Serve every portal of `plan`; a context manager that stops the server on exit.

    `latency_s` delays every answer (a portal's own `latency_s` overrides it); `port` is the
    port on every address (default: one free on all of them); `budget_datasets` bounds the
    datasets held generated at once; `workers` is the thread pool of the platform apps.
    """

    def __init__(
        self,
        plan: NationalPlan,
        latency_s: float = 0.0,
        port: int | None = None,
        budget_datasets: int = DEFAULT_BUDGET_DATASETS,
        workers: int = 8,
    ) -> None:
        if latency_s < 0:
            raise ValueError(f"latency must be 0 or more seconds, got {latency_s}")
        self.plan = plan
        self.latency_s = latency_s
        self.pool = CatalogPool(budget_datasets)
        _raise_open_files_limit(len(plan.portals) * 2 + 256)
        self._sockets = _bind_all([portal_address(spec.index) for spec in plan.portals], port)
        self.port = self._sockets[0].getsockname()[1]
        identity = f"{plan.seed}:{plan.as_of.isoformat()}"
        self.portals = [
            HostedPortal(spec, portal_address(spec.index), self.port, plan.as_of, identity, self.pool)
            for spec in plan.portals
        ]
        self._by_address = {portal.address: portal for portal in self.portals}
        self.in_flight = self.max_total_in_flight = 0  # across every host (the event loop's counters)
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="national-app")
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.start()

    # --- life cycle ------------------------------------------------------------------------------
    def start(self) -> None:
        config = uvicorn.Config(
            self._asgi,
            http="h11",
            interface="asgi3",
            proxy_headers=False,
            lifespan="off",
            log_config=None,
            access_log=False,
            server_header=False,
            timeout_keep_alive=30,
            timeout_graceful_shutdown=2,
            backlog=512,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self._server.serve(sockets=self._sockets)),
            name="national-simulator",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.close()
                raise RuntimeError("the national simulator's server did not start")
            time.sleep(0.01)

    def close(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._executor.shutdown(wait=False, cancel_futures=True)
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.close()
        for portal in self.portals:
            portal.close()

    def __enter__(self) -> NationalSimulator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- what a test or a benchmark reads --------------------------------------------------------
    def urls(self) -> dict[int, str]:
        return {portal.spec.index: portal.url for portal in self.portals}

    def cities_document(
        self, portal_options: Mapping[str, Any] | None = None, concurrency: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        return cities_document(self.plan, self.urls(), portal_options, concurrency)

    def write_cities_file(
        self,
        path: Path | str,
        portal_options: Mapping[str, Any] | None = None,
        concurrency: Mapping[str, Any] | None = None,
    ) -> Path:
        return write_cities_file(path, self.plan, self.port, portal_options, concurrency)

    def portal(self, url_or_index: str | int) -> HostedPortal:
        if isinstance(url_or_index, int):
            return self.portals[url_or_index]
        for portal in self.portals:
            if portal.url == url_or_index.rstrip("/"):
                return portal
        raise KeyError(f"no simulated portal at {url_or_index}")

    def max_in_flight(self, portals: Iterable[HostedPortal] | None = None) -> int:
        """The most requests any one host had in flight at once since the start."""
        return max((portal.max_in_flight for portal in portals or self.portals), default=0)

    def reset_counters(self) -> None:
        for portal in self.portals:
            portal.reset_counters()
        self.max_total_in_flight = self.in_flight

    def requests_served(self) -> int:
        return sum(portal.served for portal in self.portals)

    def stats(self) -> dict[str, Any]:
        return {
            "portals": len(self.portals),
            "datasets": self.plan.datasets,
            "requests": self.requests_served(),
            "catalog_requests": sum(portal.catalog_requests() for portal in self.portals),
            "not_modified": sum(portal.not_modified for portal in self.portals),
            "max_in_flight_per_host": self.max_in_flight(),
            "max_in_flight_total": self.max_total_in_flight,
            "generations": sum(portal.generations for portal in self.portals),
            "evictions": self.pool.evictions,
            "datasets_held": self.pool.datasets_held,
        }

    # --- the ASGI application --------------------------------------------------------------------
    async def _asgi(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        portal = self._by_address.get((scope.get("server") or ("",))[0])
        if portal is None:
            await _send(send, json_response({"error": "no portal at this address"}, 404), 0.0)
            return
        portal.in_flight += 1
        portal.max_in_flight = max(portal.max_in_flight, portal.in_flight)
        self.in_flight += 1
        self.max_total_in_flight = max(self.max_total_in_flight, self.in_flight)
        try:
            request = await _request(scope, receive)
            latency = self.latency_s if portal.latency_s is None else portal.latency_s
            if latency:
                await asyncio.sleep(latency)
            loop = asyncio.get_running_loop()
            response = await loop.run_in_executor(self._executor, portal.handle, request)
            portal.served += 1
            portal.not_modified += response.status == 304
            await _send(send, response, getattr(response, "drip_interval_s", 0.0))
        finally:
            portal.in_flight -= 1
            self.in_flight -= 1


async def _request(scope: dict, receive: Any) -> Request:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    headers = CaseInsensitiveDict(
        {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
    )
    query = parse_qs(scope["query_string"].decode("latin-1"), keep_blank_values=True)
    return Request(scope["method"], scope["path"], query, b"".join(chunks), headers)


async def _send(send: Any, response: Response, drip_interval_s: float) -> None:
    headers = [(b"content-type", response.content_type.encode())]
    if response.status != 304:
        headers.append((b"content-length", str(len(response.body)).encode()))
    headers += [
        (name.lower().encode(), str(value).encode("latin-1")) for name, value in response.headers.items()
    ]
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    body = b"" if response.status == 304 else response.body
    if not drip_interval_s:
        await send({"type": "http.response.body", "body": body})
        return
    for index in range(len(body)):
        await send({"type": "http.response.body", "body": body[index : index + 1], "more_body": True})
        await asyncio.sleep(drip_interval_s)
    await send({"type": "http.response.body", "body": b""})


def _bind_all(addresses: list[str], port: int | None) -> list[socket.socket]:
    """One listening socket per address, all on `port` (or on one port free on all of them)."""
    for _ in range(20):
        sockets: list[socket.socket] = []
        try:
            chosen = port or 0
            for address in addresses:
                sock = socket.socket(
                    socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP
                )  # asyncio: no Nagle
                sockets.append(sock)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind((address, chosen))
                chosen = sock.getsockname()[1]
                sock.listen(512)
                sock.setblocking(False)
            return sockets
        except OSError as error:
            for sock in sockets:
                sock.close()
            if port is not None:
                raise OSError(f"cannot listen on port {port} of every portal address: {error}") from None
    raise OSError("no port is free on every portal address; pass port=")


def _raise_open_files_limit(wanted: int) -> None:
    """Hundreds of listening sockets and their connections need more than the usual 1024 files."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        new = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
