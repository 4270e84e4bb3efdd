"""Which addresses a request may reach: public ones, and the hosts the operator configured.

A catalog is untrusted input: its links, and a portal's redirects, may point at the scanning
machine's own network (a cloud metadata service, an admin page on 10.x, a database on
loopback). So every host but a trusted one (the configured portal's own, or one the operator
names in config) must resolve to public addresses only. The check runs on the resolved address
at connect time, and the connection goes to the very address that was checked, so a DNS answer
that changes between a check and the connect (rebinding) cannot slip past; redirects connect
anew and are checked the same way.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

_SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT (RFC 6598)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # IPv4 addresses embedded in IPv6 (RFC 6052)

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def refusal_reason(address: str | IpAddress) -> str | None:
    """Why a request must not go to this address ("loopback", "private", ...), None when it is public."""
    try:
        ip = ipaddress.ip_address(str(address).split("%", 1)[0])  # drop an IPv6 zone (`fe80::1%eth0`)
    except ValueError:
        return "not an IP address"
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            return refusal_reason(embedded)
    checks = (
        (ip.is_unspecified, "unspecified"),
        (ip.is_loopback, "loopback"),
        (ip.is_link_local, "link-local"),
        (ip.is_multicast, "multicast"),
        (isinstance(ip, ipaddress.IPv4Address) and ip in _SHARED, "shared (carrier-grade NAT)"),
        (ip.is_reserved, "reserved"),
        (ip.is_private, "private"),
    )
    for matched, reason in checks:
        if matched:
            return reason
    return None if ip.is_global else "not globally routable"


def host_key(host: str) -> str:
    """A host name as compared: lower case, no IPv6 brackets, no trailing dot."""
    return host.strip().strip("[]").rstrip(".").lower()


class AddressRefused(Exception):
    """A target the policy refuses. Not an OSError: urllib3 must neither wrap nor retry it."""

    def __init__(self, host: str, reason: str):
        super().__init__(f"{host} is not a public address ({reason})")
        self.host, self.reason = host, reason


@dataclass(frozen=True)
class AddressPolicy:
    """Trusted hosts are reached wherever they resolve; any other host only on public addresses."""

    trusted_hosts: frozenset[str] = frozenset()

    @classmethod
    def trusting(cls, hosts: Iterable[str]) -> AddressPolicy:
        return cls(frozenset(host_key(host) for host in hosts if host and host.strip()))

    def trusts(self, host: str) -> bool:
        return host_key(host) in self.trusted_hosts

    def vet(self, host: str, addresses: Iterable[str]) -> None:
        """Raise AddressRefused unless the host is trusted or every address it resolved to is public."""
        if self.trusts(host):
            return
        for address in addresses:
            reason = refusal_reason(address)
            if reason:
                raise AddressRefused(host_key(host), reason)

    def resolve(self, host: str, port: int) -> list[tuple]:
        """getaddrinfo results for a stream connection, vetted (raises AddressRefused, socket.gaierror)."""
        found = socket.getaddrinfo(host_key(host), port, 0, socket.SOCK_STREAM)
        self.vet(host, [info[4][0] for info in found])
        return found

    def check_url(self, url: str) -> None:
        """Resolve and vet the URL's host now, for a request a proxy makes (it connects, not us).

        A name that does not resolve here is left to the proxy: it may resolve only there."""
        parts = urlsplit(url)
        if parts.hostname and not self.trusts(parts.hostname):
            try:
                self.resolve(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
            except socket.gaierror:
                return


def hosts_of(*urls: str | None) -> list[str]:
    """The host names of the absolute http(s) URLs among `urls`."""
    found = []
    for url in urls:
        parts = urlsplit(url or "")
        if parts.scheme in ("http", "https") and parts.hostname:
            found.append(parts.hostname)
    return found
