"""The transport under `HttpClient`: urllib3 connections that obey the address policy and deadlines.

Each connection resolves its host itself, vets every address with the policy, and connects to
the address it vetted (no second lookup). Requests sent through a proxy are vetted by name before
they leave, as the proxy does the connecting.
"""

from __future__ import annotations

import functools
import socket
import threading
from collections.abc import Callable, Mapping
from typing import Any

from requests.adapters import HTTPAdapter
from requests.utils import select_proxy
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import NameResolutionError

from wwc_pipeline.http_deadline import DeadlineHooks
from wwc_pipeline.http_guard import GuardedSession
from wwc_pipeline.http_policy import AddressPolicy


class _Vetted:
    """Mixed into urllib3 connections: connect only to an address the policy allows."""

    policy: AddressPolicy  # set on the per-policy subclass

    def _new_conn(self) -> socket.socket:
        if self.policy.trusts(self.host):  # type: ignore[attr-defined]
            return super()._new_conn()  # type: ignore[misc]
        try:
            found = self.policy.resolve(self._dns_host, self.port)  # type: ignore[attr-defined]
        except socket.gaierror as error:
            raise NameResolutionError(self.host, self, error) from error  # type: ignore[attr-defined]
        original = self._dns_host  # type: ignore[attr-defined]
        self._dns_host = found[0][4][0]  # pin the vetted address: no second DNS answer
        try:
            return super()._new_conn()  # type: ignore[misc]
        finally:
            self._dns_host = original


@functools.lru_cache(maxsize=64)
def _pool_classes(policy: AddressPolicy) -> dict[str, type]:
    attrs = {"policy": policy}
    plain = type("VettedHTTPConnection", (DeadlineHooks, _Vetted, HTTPConnection), attrs)
    secure = type("VettedHTTPSConnection", (DeadlineHooks, _Vetted, HTTPSConnection), attrs)
    return {
        "http": type("VettedHTTPConnectionPool", (HTTPConnectionPool,), {"ConnectionCls": plain}),
        "https": type("VettedHTTPSConnectionPool", (HTTPSConnectionPool,), {"ConnectionCls": secure}),
    }


class VettedAdapter(HTTPAdapter):
    """requests' adapter with vetted, deadline-aware connections and no retries of its own."""

    def __init__(self, policy: AddressPolicy, pool_size: int = 10):
        self.policy = policy
        super().__init__(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _pool_classes(self.policy)

    def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        if select_proxy(request.url, kwargs.get("proxies") or {}):
            self.policy.check_url(request.url)
        return super().send(request, *args, **kwargs)


class SharedState:
    """What every view of one `HttpClient` shares: the per-host pacing, and one session (with its
    connection pools) per address policy, so that a connection is only reused under its own policy."""

    def __init__(self, headers: Mapping[str, str], pool_size: int, guard: Callable[[str], None]):
        self.lock = threading.Lock()
        self.next_slot: dict[str, float] = {}
        self.headers = dict(headers)
        self.pool_size = pool_size
        self.guard = guard
        self.sessions: dict[AddressPolicy, GuardedSession] = {}

    def session_for(self, policy: AddressPolicy) -> GuardedSession:
        with self.lock:
            session = self.sessions.get(policy)
            if session is None:
                session = GuardedSession(self.guard)
                adapter = VettedAdapter(policy, self.pool_size)
                session.mount("http://", adapter)
                session.mount("https://", adapter)
                session.headers.update(self.headers)
                self.sessions[policy] = session
            return session

    def close(self) -> None:
        with self.lock:
            sessions, self.sessions = list(self.sessions.values()), {}
        for session in sessions:
            session.close()
