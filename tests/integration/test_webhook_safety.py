"""The webhook SSRF guard, at registration (check_url) and at delivery (deliver against a real
HTTP server on loopback). This machine has no internet: public answers come from a patched
getaddrinfo, which also plays the attacker's DNS for the rebinding tests."""
from __future__ import annotations

import datetime
import ipaddress
import re
import socket
import ssl
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
import urllib3.response

from services.notify.webhooks import safety, signing, transport
from services.notify.webhooks.delivery import deliver
from services.notify.webhooks.safety import UnsafeURL, check_url, is_forbidden_address

LOOPBACK = ["127.0.0.0/8"]
PUBLIC_IP = "93.184.216.34"
HUGE = 10 * 1024 * 1024
_real_getaddrinfo = socket.getaddrinfo


class Recorder(BaseHTTPRequestHandler):
    """Answers by path; every request (line, headers, body) is kept on the server."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.requests.append((self.requestline, dict(self.headers), body))
        route = getattr(self, "route_" + self.path.strip("/").replace("-", "_"), self.route_ok)
        route()

    def answer(self, status: int, body: bytes = b"", **headers):
        self.send_response(status)
        for name, value in {"Content-Length": str(len(body)), **headers}.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def route_ok(self):
        self.answer(200, "merci ✓".encode())

    def route_huge(self):
        self.send_response(200)
        self.send_header("Content-Length", str(HUGE))
        self.end_headers()
        chunk = b"x" * 65536
        try:
            for _ in range(HUGE // len(chunk)):
                self.wfile.write(chunk)
        except OSError:
            pass  # the client hung up, as it should

    def route_redirect(self):
        self.answer(302, Location=f"http://127.0.0.1:{self.server.server_port}/ok")

    def route_busy(self):
        self.answer(429, b"slow down", Retry_After="120")

    def route_down(self):
        self.answer(503, Retry_After=formatdate(time.time() + 300, usegmt=True))

    def route_gone(self):
        self.answer(410)

    def route_slow(self):
        time.sleep(2)
        self.answer(200)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, ssl_context: ssl.SSLContext | None = None):
        super().__init__(("127.0.0.1", 0), Recorder)
        self.requests, self.connections, self.ssl_context = [], 0, ssl_context

    def get_request(self):
        sock, address = super().get_request()
        self.connections += 1
        if self.ssl_context:
            sock = self.ssl_context.wrap_socket(sock, server_side=True)
        return sock, address

    def handle_error(self, request, client_address):
        pass  # clients hanging up on purpose are not errors here


def running(server: Server):
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return server


@pytest.fixture
def server():
    server = running(Server())
    yield server
    server.shutdown()
    server.server_close()


def url(server: Server, path: str = "ok", host: str = "127.0.0.1", scheme: str = "http") -> str:
    return f"{scheme}://{host}:{server.server_port}/{path}"


def fake_dns(monkeypatch, answers: dict):
    """getaddrinfo answering `answers[name]` — a list, or a callable for answers that change —
    and really resolving everything else (numeric addresses in particular)."""
    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        if host not in answers:
            return _real_getaddrinfo(host, port, family, type, proto, flags)
        ips = answers[host]() if callable(answers[host]) else answers[host]
        if not ips:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET6 if ":" in ip else socket.AF_INET, socket.SOCK_STREAM, 6, "",
                 (ip, port, 0, 0) if ":" in ip else (ip, port)) for ip in ips]
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def signed(body: bytes = b'{"type": "campaign.created"}') -> dict:
    return signing.headers(signing.new_secret(), "msg_1", int(time.time()), body)


# Registration -------------------------------------------------------------------------------

@pytest.mark.parametrize("bad, problem", [
    ("ftp://example.org/", "must start with https:// or http://"),
    ("javascript:alert(1)", "must start with https:// or http://"),
    ("//example.org/", "must start with https:// or http://"),
    ("http:///path", "no host"),
    ("https://user:secret@example.org/", "user name or password"),
    ("https://@example.org/", "user name or password"),
    ("https://example.org:0/", "port must be between 1 and 65535"),
    ("https://example.org:65536/", "port must be between 1 and 65535"),
    ("https://example.org/" + "a" * 2000, "longer than 2000 characters"),
    ("https://exa mple.org/", "spaces or control characters"),
    ("https://example.org\\@127.0.0.1/", "backslashes"),
    ("http://localhost/", "local or internal host name"),
    ("http://LocalHost.:8080/", "local or internal host name"),
    ("http://api.localhost/", "local or internal host name"),
    ("http://printer.local/", "local or internal host name"),
    ("http://metadata.google.internal/computeMetadata/v1/", "local or internal host name"),
    ("http://router.home.arpa/", "local or internal host name"),
    ("http://postgres:5432/", "not a public host name"),
    ("http://127.0.0.1/", "loopback"),
    ("http://127.8.9.10/", "loopback"),
    ("http://[::1]/", "loopback"),
    ("http://10.1.2.3/", "private"),
    ("http://172.16.0.1/", "private"),
    ("http://192.168.1.1/", "private"),
    ("http://[fc00::1]/", "unique-local"),
    ("http://[fd12:3456::1]/", "unique-local"),
    ("http://169.254.1.1/", "link-local"),
    ("http://[fe80::1]/", "link-local"),
    ("http://[fe80::1%25eth0]/", "link-local"),
    ("http://169.254.169.254/latest/meta-data/", "cloud metadata"),
    ("http://[fd00:ec2::254]/", "cloud metadata"),
    ("http://100.100.100.200/", "cloud metadata"),
    ("http://100.64.0.1/", "shared (carrier-grade NAT)"),
    ("http://224.0.0.1/", "multicast"),
    ("http://[ff02::1]/", "multicast"),
    ("http://0.0.0.0/", "unspecified"),
    ("http://[::]/", "unspecified"),
    ("http://255.255.255.255/", "broadcast"),
    ("http://240.0.0.1/", "reserved"),
    ("http://192.0.2.1/", "documentation"),
    ("http://[2001:db8::1]/", "documentation"),
    ("http://[::ffff:127.0.0.1]/", "IPv4-mapped form of 127.0.0.1, a loopback"),
    ("http://[::ffff:7f00:1]/", "IPv4-mapped form of 127.0.0.1, a loopback"),
    ("http://[::ffff:169.254.169.254]/", "cloud metadata"),
    ("http://[::127.0.0.1]/", "IPv4-compatible"),
    ("http://[64:ff9b::10.0.0.1]/", "translated form of 10.0.0.1, a private"),
    ("http://[64:ff9b::7f00:1]/", "translated form of 127.0.0.1, a loopback"),
    ("http://[2002:a9fe:a9fe::]/", "translated form of 169.254.169.254, a cloud metadata"),
    ("http://[2002:c0a8:101::1]/", "translated form of 192.168.1.1, a private"),
    ("http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/", "Teredo"),
    ("http://2130706433/", "127.0.0.1 is not allowed"),
    ("http://0177.0.0.1/", "127.0.0.1 is not allowed"),
    ("http://0x7f.1/", "127.0.0.1 is not allowed"),
    ("http://0x7f000001/", "127.0.0.1 is not allowed"),
    ("http://127.1/", "127.0.0.1 is not allowed"),
    ("http://%6c%6fcalhost/", "local or internal host name"),
    ("http://1.2.3.4.5/", "not a valid IPv4 address"),
    ("http://[not-v6]/", "the URL is not valid"),
])
def test_check_url_refuses(bad, problem):
    with pytest.raises(UnsafeURL, match=re.escape(problem)):
        check_url(bad)


def test_a_name_resolving_to_a_public_address_passes_in_canonical_form(monkeypatch):
    fake_dns(monkeypatch, {"hooks.example.org": [PUBLIC_IP, "2606:2800:220:1:248:1893:25c8:1946"]})
    assert check_url("HTTPS://Hooks.Example.ORG:443/in?x=1#frag") == "https://hooks.example.org/in?x=1"
    assert check_url("http://hooks.example.org:8080") == "http://hooks.example.org:8080/"


def test_public_addresses_in_any_spelling_pass(monkeypatch):
    assert check_url("http://93.184.216.34/") == "http://93.184.216.34/"
    assert check_url("http://1572395042/") == "http://93.184.216.34/"  # the same address as a number
    assert check_url("http://[2606:2800:220:1::1]/") == "http://[2606:2800:220:1::1]/"
    assert check_url("http://[64:ff9b::93.184.216.34]/") == "http://[64:ff9b::5db8:d822]/"  # NAT64 of a public one


def test_a_name_with_any_private_answer_is_refused(monkeypatch):
    fake_dns(monkeypatch, {"mixed.example.org": [PUBLIC_IP, "10.0.0.7"],
                           "metadata.example.org": ["169.254.169.254"]})
    with pytest.raises(UnsafeURL, match="mixed.example.org resolves to 10.0.0.7, which is not allowed"):
        check_url("https://mixed.example.org/")
    with pytest.raises(UnsafeURL, match="cloud metadata"):
        check_url("https://metadata.example.org/")


def test_a_name_that_does_not_resolve_is_refused(monkeypatch):
    fake_dns(monkeypatch, {"nowhere.example.org": []})
    with pytest.raises(UnsafeURL, match="nowhere.example.org does not resolve"):
        check_url("https://nowhere.example.org/")


def test_the_allow_list_lets_chosen_private_networks_and_names_through(monkeypatch):
    assert check_url("http://127.0.0.1:8080/hook#x", LOOPBACK) == "http://127.0.0.1:8080/hook"
    assert check_url("http://[::ffff:127.0.0.1]/", LOOPBACK) == "http://[::ffff:7f00:1]/"
    assert check_url("http://localhost:8080/", ["localhost"]) == "http://localhost:8080/"
    fake_dns(monkeypatch, {"hooks.corp.internal": ["10.20.0.5"]})
    assert check_url("http://hooks.corp.internal/", ["hooks.corp.internal"]) == "http://hooks.corp.internal/"
    with pytest.raises(UnsafeURL, match="private"):
        check_url("http://10.0.0.1/", LOOPBACK)
    with pytest.raises(UnsafeURL, match="local or internal"):
        check_url("http://localhost/", LOOPBACK)  # a network on the list does not admit names


def test_a_malformed_allow_list_is_a_configuration_error():
    with pytest.raises(ValueError, match="neither a network nor a host name"):
        check_url("http://93.184.216.34/", ["10.0.0.0/33"])
    with pytest.raises(TypeError):
        check_url("http://93.184.216.34/", "127.0.0.0/8")
    assert safety.normalise_allow(" 127.0.0.0/8, ,localhost".split(",")) == ("127.0.0.0/8", "localhost")


@pytest.mark.parametrize("ip, allow, forbidden", [
    ("93.184.216.34", (), False),
    ("2606:4700::1111", (), False),
    ("127.0.0.1", (), True),
    ("127.0.0.1", LOOPBACK, False),
    ("::ffff:127.0.0.1", LOOPBACK, False),
    ("10.0.0.1", LOOPBACK, True),
    ("10.0.0.1", ["10.0.0.0/24"], False),
    ("fd00::1", ["fd00::/8"], False),
    ("64:ff9b::a00:1", (), True),
    ("64:ff9b::a00:1", ["10.0.0.0/8"], False),
    ("2002:808:808::1", (), False),  # 6to4 of 8.8.8.8
])
def test_is_forbidden_address(ip, allow, forbidden):
    assert is_forbidden_address(ipaddress.ip_address(ip), allow) is forbidden


# Delivery -----------------------------------------------------------------------------------

def test_deliver_posts_the_signed_body_and_records_the_answer(server):
    body = b'{"type": "campaign.created"}'
    headers = signed(body)
    attempt = deliver(url(server), body, headers, allow=LOOPBACK)
    assert (attempt.status_code, attempt.error, attempt.retry_after) == (200, None, None)
    assert attempt.response_excerpt == "merci ✓" and attempt.ok
    assert 0 < attempt.latency_ms < 2000
    [(line, received, sent)] = server.requests
    assert line == "POST /ok HTTP/1.1" and sent == body
    assert received["Host"] == f"127.0.0.1:{server.server_port}"
    assert {received[name] for name in ("webhook-id", "webhook-timestamp", "webhook-signature")} == {
        headers[name] for name in ("webhook-id", "webhook-timestamp", "webhook-signature")}
    assert received["Content-Type"] == "application/json"


def test_deliver_reads_only_the_first_bytes_of_a_huge_answer(server, monkeypatch):
    read = []
    real = urllib3.response.HTTPResponse.read1
    monkeypatch.setattr(urllib3.response.HTTPResponse, "read1",
                        lambda self, *a, **k: read.append(real(self, *a, **k)) or read[-1])
    started = time.monotonic()
    attempt = deliver(url(server, "huge"), b"{}", signed(b"{}"), allow=LOOPBACK, max_response_bytes=4096)
    assert time.monotonic() - started < 2
    assert attempt.status_code == 200 and attempt.response_excerpt == "x" * 500
    assert sum(map(len, read)) <= 4096  # of the 10 MB the server offered


def test_deliver_does_not_follow_redirects(server):
    attempt = deliver(url(server, "redirect"), b"{}", signed(b"{}"), allow=LOOPBACK)
    assert (attempt.status_code, attempt.error) == (302, "redirects are not followed")
    assert [line for line, _, _ in server.requests] == ["POST /redirect HTTP/1.1"]


def test_deliver_honours_retry_after_in_seconds_and_as_a_date(server):
    busy = deliver(url(server, "busy"), b"{}", signed(b"{}"), allow=LOOPBACK)
    assert (busy.status_code, busy.retry_after, busy.error, busy.response_excerpt) == (429, 120, None, "slow down")
    down = deliver(url(server, "down"), b"{}", signed(b"{}"), allow=LOOPBACK)
    assert down.status_code == 503 and 290 <= down.retry_after <= 300
    gone = deliver(url(server, "gone"), b"{}", signed(b"{}"), allow=LOOPBACK)
    assert (gone.status_code, gone.retry_after, gone.ok) == (410, None, False)


def test_deliver_times_out_reading_a_slow_answer(server):
    started = time.monotonic()
    attempt = deliver(url(server, "slow"), b"{}", signed(b"{}"), allow=LOOPBACK, read_timeout=0.3)
    assert time.monotonic() - started < 1.5
    assert (attempt.status_code, attempt.error) == (None, "timed out reading")


def test_deliver_times_out_connecting():
    # A listener whose backlog is full: further connections are never answered (Linux).
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    filler = socket.create_connection(listener.getsockname())
    try:
        started = time.monotonic()
        attempt = deliver(f"http://127.0.0.1:{listener.getsockname()[1]}/", b"{}", {}, allow=LOOPBACK,
                          connect_timeout=0.3)
        assert time.monotonic() - started < 1.5
        assert (attempt.status_code, attempt.error) == (None, "timed out connecting")
    finally:
        filler.close()
        listener.close()


def test_deliver_reports_a_refused_connection_without_raising():
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    attempt = deliver(f"http://127.0.0.1:{port}/", b"{}", {}, allow=LOOPBACK)
    assert attempt.status_code is None and attempt.error == "connection failed: Connection refused"


def test_deliver_refuses_loopback_without_the_allow_list_and_sends_nothing(server):
    attempt = deliver(url(server), b"{}", signed(b"{}"))
    assert attempt.status_code is None
    assert attempt.error.startswith("127.0.0.1 is not allowed for webhooks: it is a loopback address")
    assert server.connections == 0 and server.requests == []


def test_deliver_refuses_an_ipv4_mapped_loopback_address(server):
    attempt = deliver(url(server, host="[::ffff:127.0.0.1]"), b"{}", signed(b"{}"))
    assert "IPv4-mapped form of 127.0.0.1" in attempt.error
    assert server.connections == 0


def test_dns_rebinding_between_registration_and_delivery_is_caught(server, monkeypatch):
    answers = iter([[PUBLIC_IP], ["127.0.0.1"]])
    fake_dns(monkeypatch, {"hooks.example.org": lambda: next(answers)})
    registered = check_url(url(server, host="hooks.example.org"))  # sees the public address
    attempt = deliver(registered, b"{}", signed(b"{}"))  # the name now points at loopback
    assert attempt.error.startswith("hooks.example.org resolves to 127.0.0.1, which is not allowed")
    assert server.connections == 0 and server.requests == []


def test_a_mixed_answer_at_delivery_is_refused_before_connecting(server, monkeypatch):
    fake_dns(monkeypatch, {"hooks.example.org": ["127.0.0.1", PUBLIC_IP]})
    attempt = deliver(url(server, host="hooks.example.org"), b"{}", signed(b"{}"))
    assert "not allowed" in attempt.error
    assert server.connections == 0


def test_the_peer_actually_reached_is_checked_before_anything_is_sent(server, monkeypatch):
    # Whatever goes wrong between the check and the connection (here: a socket layer that
    # connects somewhere else), the address reached is judged before a byte is written.
    fake_dns(monkeypatch, {"hooks.example.org": [PUBLIC_IP]})
    monkeypatch.setattr(transport, "create_connection",
                        lambda address, *a, **k: socket.create_connection(("127.0.0.1", server.server_port)))
    attempt = deliver(url(server, host="hooks.example.org"), b"{}", signed(b"{}"))
    assert attempt.error.startswith("hooks.example.org was reached at 127.0.0.1, which is not allowed")
    assert server.requests == []


def test_the_allow_list_admits_a_name_however_it_resolves(server, monkeypatch):
    fake_dns(monkeypatch, {"hooks.example.org": ["127.0.0.1"]})
    attempt = deliver(url(server, host="hooks.example.org"), b"{}", signed(b"{}"), allow=["hooks.example.org"])
    assert attempt.status_code == 200
    assert server.requests[0][1]["Host"] == f"hooks.example.org:{server.server_port}"


def test_deliver_refuses_a_url_the_rules_now_forbid_without_raising():
    attempt = deliver("http://user:pw@93.184.216.34/", b"{}", {})
    assert attempt.status_code is None and "user name or password" in attempt.error


def test_proxy_variables_are_ignored(server, monkeypatch):
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        dead = unused.getsockname()[1]
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, f"http://127.0.0.1:{dead}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    attempt = deliver(url(server), b"{}", signed(b"{}"), allow=LOOPBACK)
    assert attempt.status_code == 200
    assert server.requests[0][0] == "POST /ok HTTP/1.1"  # origin-form: straight to the endpoint


def test_a_session_is_reused_only_if_it_is_guarded(server):
    session = transport.new_session(LOOPBACK)
    session.proxies = {"http": "http://127.0.0.1:9"}  # ignored: the guarded adapter never proxies
    with session:
        for _ in range(2):
            assert deliver(url(server), b"{}", signed(b"{}"), allow=LOOPBACK, session=session).status_code == 200
    assert server.connections == 1  # kept alive between attempts
    with pytest.raises(ValueError, match="new_session"):
        deliver(url(server), b"{}", {}, allow=LOOPBACK, session=requests.Session())
    with pytest.raises(ValueError, match="allow-list differs"):
        deliver(url(server), b"{}", {}, allow=(), session=transport.new_session(LOOPBACK))


# TLS: the socket goes to the checked address, but SNI and the certificate are the host name's.

@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hooks.example.org")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("hooks.example.org")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    folder = tmp_path_factory.mktemp("tls")
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    return folder / "cert.pem", folder / "key.pem"


@pytest.fixture
def tls_server(certificate):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    names = []
    context.sni_callback = lambda sock, name, ctx: names.append(name)
    server = running(Server(context))
    server.sni_names = names
    yield server
    server.shutdown()
    server.server_close()


def test_tls_verifies_the_host_name_while_connecting_to_the_checked_address(tls_server, certificate, monkeypatch):
    fake_dns(monkeypatch, {"hooks.example.org": ["127.0.0.1"], "other.example.org": ["127.0.0.1"]})
    session = transport.new_session(LOOPBACK)
    session.verify = str(certificate[0])
    with session:
        good = deliver(url(tls_server, host="hooks.example.org", scheme="https"), b"{}", signed(b"{}"),
                       allow=LOOPBACK, session=session)
        assert good.status_code == 200, good.error
        assert tls_server.sni_names == ["hooks.example.org"]
        assert tls_server.requests[0][1]["Host"] == f"hooks.example.org:{tls_server.server_port}"
        wrong = deliver(url(tls_server, host="other.example.org", scheme="https"), b"{}", signed(b"{}"),
                        allow=LOOPBACK, session=session)
        assert wrong.status_code is None and wrong.error.startswith("TLS failed: ")
        assert "other.example.org" in wrong.error, wrong.error
