"""The loopback servers: one ThreadingHTTPServer per portal, each on its own port.

Every portal also answers the links its documents contain: `/files/<key>/<name>` (a small
file; 404 for the few entries generated with broken links), `/datasets/<slug>` landing
pages and `/terms-of-use`. Any other unknown path is a 404 JSON body.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import logging
import re
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from wwc_pipeline.simulator import vocabulary as vocab
from wwc_pipeline.simulator.catalog import GeneratedCatalog, RecordedCatalog
from wwc_pipeline.simulator.ckan import CkanApp
from wwc_pipeline.simulator.common import Request, Response, Site, dumps, json_response, raw_response
from wwc_pipeline.simulator.dcat import DcatApp
from wwc_pipeline.simulator.faults import PAGING_PARAMETERS, Faults, FaultState, write_body
from wwc_pipeline.simulator.generator import Entry
from wwc_pipeline.simulator.opendatasoft import OpenDataSoftApp
from wwc_pipeline.simulator.requestlog import LoggedRequest, RequestLog
from wwc_pipeline.simulator.socrata import SocrataApp

log = logging.getLogger(__name__)
PLATFORMS = {"socrata": SocrataApp, "ckan": CkanApp, "dcat": DcatApp, "opendatasoft": OpenDataSoftApp}
FILE_PATH = re.compile(r"/files/([^/]+)/([^/]+)")
PAGE_PATH = re.compile(r"/datasets/([^/]+)/?")
MEDIA_TYPES = {extension: media for _, media, _, extension in vocab.FORMATS.values()}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int]) -> None:
        super().__init__(address, _Handler)
        self.portal: SimulatedPortal | None = None
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._connections_lock:
                self._connections.discard(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up mid-answer (a link checker that reads no body) is no error."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    def close_connections(self) -> None:
        """Cut kept-alive connections too, so a closed portal answers nothing at all."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "wwc-simulator/1"
    sys_version = ""
    timeout = 60
    disable_nagle_algorithm = True  # headers and body go out as two writes: no 40 ms delayed-ACK stall

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._serve()

    do_POST = do_GET  # noqa: N815
    do_HEAD = do_GET  # noqa: N815

    def _serve(self) -> None:
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        query = parse_qs(split.query, keep_blank_values=True)
        request = Request(self.command, unquote(split.path), query, body, self.headers)
        response = self.server.portal.handle(request)
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                write_body(self.wfile, response)
        except (ConnectionError, OSError):
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's signature
        return


class SimulatedPortal:
    """One simulated portal: its server, catalog, faults and request log.

    `url` is where it listens; `site.base_url` is the base written inside its documents
    (the same unless `public_url` was given, e.g. to keep documents identical across ports).
    """

    def __init__(
        self,
        platform: str,
        catalog: GeneratedCatalog | RecordedCatalog,
        faults: Faults | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        public_url: str | None = None,
        listen: bool = True,
    ) -> None:
        if platform not in PLATFORMS:
            raise ValueError(f"unknown platform {platform!r}; use one of {', '.join(PLATFORMS)}")
        self.platform = platform
        self._server: _Server | None = None
        if listen:  # else another server (the national one) hands requests to `handle`
            self._server = _Server((host, port))
            self._server.portal = self
            port = self._server.server_address[1]
        self.url = f"http://{host}:{port}"
        self.domain = f"{host}:{port}"
        self.site = Site((public_url or self.url).rstrip("/"), getattr(catalog, "name", "Recorded"))
        self.requests = RequestLog()
        self._faults = FaultState(faults or Faults())
        self._lock = threading.Lock()
        self._catalog = catalog
        try:
            self.app = PLATFORMS[platform](self)
        except Exception:
            if self._server is not None:
                self._server.server_close()
            raise
        if self._server is None:
            return
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            daemon=True,
            name=f"sim-{platform}-{port}",
        )
        self._thread.start()

    @property
    def catalog(self) -> GeneratedCatalog | RecordedCatalog:
        return self._catalog

    def set_catalog(self, catalog: GeneratedCatalog | RecordedCatalog) -> None:
        """Serve another catalog from now on (same port, same faults, same request log)."""
        with self._lock:
            previous, self._catalog = self._catalog, catalog
            try:
                self.site = Site(self.site.base_url, getattr(catalog, "name", "Recorded"))
                self.app = PLATFORMS[self.platform](self)
            except Exception:
                self._catalog = previous
                raise

    @property
    def faults(self) -> Faults:
        return self._faults.faults

    def set_faults(self, faults: Faults) -> None:
        """Switch faults; their counters (first N requests, random draws) start again."""
        self._faults = FaultState(faults)

    @property
    def entries(self) -> list[Entry]:
        """The generated entries this platform serves, in catalog order (empty when recorded)."""
        return [
            e
            for e in self._catalog.entries
            if self.platform == "socrata" or e.is_dataset or e.kind == "policy"
        ]

    def handle(self, request: Request) -> Response:
        faults = self._faults
        response = faults.before(request)
        if response is None:
            if faults.faults.ignore_paging:
                request = _without_paging(request)
            try:
                response = self._route(request)
            except Exception as error:  # noqa: BLE001 - a test server answers 500, never dies
                log.exception("simulator error on %s", request.path)
                response = json_response({"error": f"simulator error: {error}"}, 500)
            response = faults.after(request, response)
        self.requests.add(
            LoggedRequest(request.method, request.path, request.query, _body(request), response.status)
        )
        return response

    def _route(self, request: Request) -> Response:
        if match := FILE_PATH.fullmatch(request.path):
            return self._file(match[1], match[2])
        if (match := PAGE_PATH.fullmatch(request.path)) and self._by("slug").get(match[1]):
            return _html(self._by("slug")[match[1]].title)
        if request.path == "/terms-of-use":
            return _html(f"Terms of use of the City of {self.site.city}")
        response = self.app.handle(request)
        if response is None:
            return json_response({"error": "not found", "path": request.path}, 404)
        return response

    def _by(self, attribute: str) -> dict[str, Entry]:
        return {getattr(entry, attribute): entry for entry in self.entries}

    def _file(self, key: str, name: str) -> Response:
        entry = self._by("key").get(key)
        if entry is None or entry.broken_link:
            return raw_response(b"<html><title>Not Found</title></html>", 404, "text/html")
        extension = name.rsplit(".", 1)[-1]
        media = MEDIA_TYPES.get(extension, "application/octet-stream")
        rows = self._catalog.rows(entry, 0, 5) if entry.row_count else []
        if extension == "csv":
            out = io.StringIO()
            writer = csv.DictWriter(out, [c.field_name for c in entry.columns])
            writer.writeheader()
            writer.writerows(rows)
            return raw_response(out.getvalue().encode(), 200, media)
        if extension in ("json", "featureserver"):
            return raw_response(json.dumps(rows, default=str).encode(), 200, "application/json")
        if extension == "geojson":
            return raw_response(dumps({"type": "FeatureCollection", "features": []}), 200, media)
        if extension == "pdf":
            return raw_response(b"%PDF-1.4\n% simulated document\n%%EOF\n", 200, media)
        return raw_response(f"simulated {extension} file for {entry.title}".encode(), 200, media)

    def close(self) -> None:
        """Stop serving: the port is released and open connections are cut."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.close_connections()
        self._server.server_close()
        self._thread.join(timeout=2)

    def __repr__(self) -> str:
        return f"SimulatedPortal({self.platform!r}, url={self.url!r}, catalog={self._catalog!r})"


class PortalSimulator:
    """Simulated portals on loopback; a context manager that stops every server on exit."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.portals: list[SimulatedPortal] = []

    def add_portal(
        self,
        platform: str,
        catalog: GeneratedCatalog | RecordedCatalog | None = None,
        faults: Faults | None = None,
        port: int = 0,
        public_url: str | None = None,
    ) -> SimulatedPortal:
        """Start a portal on its own port (`port=0`: a free one) and return it."""
        portal = SimulatedPortal(platform, catalog or GeneratedCatalog(), faults, self.host, port, public_url)
        self.portals.append(portal)
        return portal

    def close(self) -> None:
        while self.portals:
            self.portals.pop().close()

    def __enter__(self) -> PortalSimulator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _html(title: str) -> Response:
    return raw_response(
        f"<html><head><title>{title}</title></head><body></body></html>".encode(), 200, "text/html"
    )


def _body(request: Request) -> Any:
    if not request.body:
        return None
    try:
        return json.loads(request.body)
    except ValueError:
        return None


def _without_paging(request: Request) -> Request:
    query = {k: v for k, v in request.query.items() if k not in PAGING_PARAMETERS}
    body = request.body
    parsed = _body(request)
    if isinstance(parsed, dict):
        body = dumps({k: v for k, v in parsed.items() if k not in PAGING_PARAMETERS})
    return Request(request.method, request.path, query, body, request.headers)
