"""The address policy: a pure function of the resolved address, then its use at connect time.

Ranges outside loopback are tested as addresses only, never connected to. Behaviour is tested
with names resolved (by a patched resolver) to 127.0.0.1 and 127.0.0.2, where servers listen.
"""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from wwc_pipeline import http_policy
from wwc_pipeline.http import HttpClient, HttpError, RefusedError
from wwc_pipeline.http_policy import AddressPolicy, AddressRefused, refusal_reason


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.0.0.2", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("172.31.255.254", "private"),
        ("192.168.1.1", "private"),
        ("fd12:3456::1", "private"),  # unique local
        ("169.254.169.254", "link-local"),  # cloud metadata service
        ("fe80::1", "link-local"),
        ("fe80::1%eth0", "link-local"),
        ("100.64.0.1", "shared (carrier-grade NAT)"),
        ("100.127.255.254", "shared (carrier-grade NAT)"),
        ("224.0.0.251", "multicast"),
        ("ff02::1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("0.1.2.3", "private"),  # "this network"
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved"),  # limited broadcast, in 240.0.0.0/4
        ("192.0.2.10", "private"),  # documentation
        ("198.18.0.1", "private"),  # benchmarking
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped IPv6
        ("::ffff:10.0.0.1", "private"),
        ("::ffff:169.254.169.254", "link-local"),
        ("2002:a00:1::", "private"),  # 6to4 around 10.0.0.1
        ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 around 169.254.169.254
        ("not-an-address", "not an IP address"),
    ],
)
def test_non_public_addresses_are_refused_with_their_range(address, reason):
    assert refusal_reason(address) == reason


@pytest.mark.parametrize(
    "address",
    ["93.184.216.34", "8.8.8.8", "100.63.255.255", "100.128.0.1", "2606:4700::1111", "::ffff:8.8.8.8"],
)
def test_public_addresses_pass(address):
    assert refusal_reason(address) is None


def test_trusted_hosts_skip_the_check_and_others_do_not():
    policy = AddressPolicy.trusting(["Data.City.gov.", "[::1]"])
    policy.vet("data.city.gov", ["10.0.0.5"])  # the configured portal: wherever it lives
    policy.vet("::1", ["::1"])
    policy.vet("files.example.org", ["93.184.216.34"])
    with pytest.raises(AddressRefused, match=r"files\.example\.org is not a public address \(private\)"):
        policy.vet("files.example.org", ["93.184.216.34", "10.0.0.5"])  # one internal answer is enough


class Recorder(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.server.seen.append(self.path)
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def serve(host: str, port: int = 0) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer((host, port), Recorder)
    server.seen = []
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server


@pytest.fixture
def servers():
    """The same port on 127.0.0.1 ("outside") and 127.0.0.2 ("internal")."""
    outside = serve("127.0.0.1")
    port = outside.server_address[1]
    try:
        internal = serve("127.0.0.2", port)
    except OSError:
        outside.shutdown()
        outside.server_close()
        pytest.skip(f"port {port} is taken on 127.0.0.2")
    yield outside, internal, port
    for server in (outside, internal):
        server.shutdown()
        server.server_close()


@pytest.fixture
def resolver(monkeypatch):
    """Names resolved by a table of answers (each call takes the next), other names as usual."""
    answers: dict[str, list[str]] = {}
    calls: list[str] = []
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host in answers:
            calls.append(host)
            address = answers[host].pop(0) if len(answers[host]) > 1 else answers[host][0]
            return real(address, port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers, calls


def test_a_name_that_resolves_to_an_internal_address_gets_no_request(servers, resolver):
    _outside, internal, port = servers
    answers, _calls = resolver
    answers["files.example.test"] = ["127.0.0.2"]
    with HttpClient(min_interval=0, trusted_hosts=["127.0.0.1"]) as client:
        with pytest.raises(RefusedError, match=r"files\.example\.test is not a public address \(loopback\)"):
            client.get_json(f"http://files.example.test:{port}/x")
        probe = client.probe(f"http://files.example.test:{port}/x.csv")
    assert probe.refused and probe.status is None
    assert internal.seen == []


def test_the_connection_goes_to_the_address_that_was_checked(servers, resolver, monkeypatch):
    """DNS rebinding: a second lookup could answer differently than the one vetted. Here
    127.0.0.1 plays a public address and 127.0.0.2 the internal one; the resolver answers
    "public" first and "internal" after. One lookup, the connection pinned to its answer."""
    outside, internal, port = servers
    answers, calls = resolver
    answers["rebind.example.test"] = ["127.0.0.1", "127.0.0.2"]
    monkeypatch.setattr(
        http_policy, "refusal_reason", lambda address: "loopback" if address == "127.0.0.2" else None
    )
    with HttpClient(min_interval=0) as client:
        assert client.get_json(f"http://rebind.example.test:{port}/x").data == {"ok": True}
    assert calls == ["rebind.example.test"]
    assert outside.seen == ["/x"] and internal.seen == []


def test_tls_to_a_pinned_address_still_verifies_the_host_name(resolver, monkeypatch, tmp_path):
    """The connection goes to the vetted address, the certificate is checked against the name."""
    import datetime
    import ssl

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tls.example.test")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("tls.example.test")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    server.seen = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    port = server.server_address[1]
    answers, calls = resolver
    answers["tls.example.test"] = ["127.0.0.1"]
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert_file))  # requests prefers it to session.verify
    monkeypatch.setattr(http_policy, "refusal_reason", lambda address: None)  # 127.0.0.1 plays public
    try:
        with HttpClient(min_interval=0, max_attempts=1) as client:
            assert client.get_json(f"https://tls.example.test:{port}/x").data == {"ok": True}
            with pytest.raises(HttpError, match="TLS error .*IP address mismatch"):
                client.get_json(f"https://127.0.0.1:{port}/x")  # the name is what is verified
    finally:
        server.shutdown()
        server.server_close()
    assert calls == ["tls.example.test"] and server.seen == ["/x"]
