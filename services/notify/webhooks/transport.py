"""A requests session that connects only where the SSRF rules allow, judged at the moment it
connects: it resolves the host itself, checks every address, connects to a checked address (never
looking the name up again) and checks the peer it reached. TLS still verifies the host name, and
the Host header is the URL's, because only the socket's target changes."""
from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence
from functools import lru_cache
from http.cookiejar import DefaultCookiePolicy

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util.connection import create_connection

from services.notify.webhooks import safety


def _connect_checked(conn: HTTPConnection, allow: tuple[str, ...]) -> socket.socket:
    """Stands in for urllib3's `_new_conn`: the socket for `conn`, to an address that passed."""
    host = conn._dns_host.strip("[]")
    try:
        infos = safety.resolve_checked(host, conn.port, allow)
    except socket.gaierror as e:
        raise NameResolutionError(conn.host, conn, e) from e
    last: OSError | None = None
    for *_, sockaddr in infos:
        # A numeric address: create_connection's own lookup of it never reaches DNS.
        try:
            sock = create_connection((sockaddr[0], conn.port), conn.timeout, source_address=conn.source_address,
                                     socket_options=conn.socket_options)
        except OSError as e:  # socket.timeout included; the next address may answer
            last = e
            continue
        _check_peer(sock, host, allow)
        return sock
    if isinstance(last, TimeoutError):
        raise ConnectTimeoutError(conn, f"Connection to {conn.host} timed out. (connect timeout={conn.timeout})") from last
    raise NewConnectionError(conn, f"Failed to establish a new connection: {last}") from last


def _check_peer(sock: socket.socket, host: str, allow: tuple[str, ...]) -> None:
    """The address actually reached, checked again before a byte is sent: the last word, whatever
    happened between the lookup and the connection."""
    peer = ipaddress.ip_address(sock.getpeername()[0])
    problem = None if safety.is_allowed_host(host, allow) else safety.address_problem(peer, allow)
    if problem:
        sock.close()
        raise safety.ForbiddenAddress(safety.refusal(host, peer, problem, "was reached at"))


class _Guarded:
    allow: tuple[str, ...] = ()

    def _new_conn(self) -> socket.socket:
        return _connect_checked(self, self.allow)


@lru_cache(maxsize=32)
def _pool_classes(allow: tuple[str, ...]) -> dict[str, type]:
    """Connection pools whose connections carry the allow-list (a class attribute: urllib3's pool
    keys reject unknown keyword arguments)."""
    http = type("GuardedHTTPConnection", (_Guarded, HTTPConnection), {"allow": allow})
    https = type("GuardedHTTPSConnection", (_Guarded, HTTPSConnection), {"allow": allow})
    return {"http": type("GuardedHTTPConnectionPool", (HTTPConnectionPool,), {"ConnectionCls": http}),
            "https": type("GuardedHTTPSConnectionPool", (HTTPSConnectionPool,), {"ConnectionCls": https})}


class GuardedAdapter(HTTPAdapter):
    """Sends straight to the endpoint through guarded connections; no retries (the schedule does
    those) and never through a proxy, which would connect on our behalf, unchecked."""

    __attrs__ = [*HTTPAdapter.__attrs__, "allow"]

    def __init__(self, allow: Sequence[str] = (), **kwargs):
        self.allow = safety.normalise_allow(allow)
        super().__init__(max_retries=0, **kwargs)

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _pool_classes(self.allow)

    def proxy_manager_for(self, proxy, **proxy_kwargs):
        raise RuntimeError("webhook deliveries never go through a proxy")

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        return super().send(request, stream=stream, timeout=timeout, verify=verify, cert=cert, proxies=None)


def new_session(allow: Sequence[str] = ()) -> requests.Session:
    """A session for deliveries: guarded, deaf to the environment (proxy variables, .netrc
    credentials) and keeping no cookies, so one receiver cannot track or affect another."""
    session = requests.Session()
    session.trust_env = False
    session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
    adapter = GuardedAdapter(allow)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def require_guarded(session: requests.Session, allow: Sequence[str]) -> None:
    """A programming error, loudly, if a session given to `deliver` could bypass the guard."""
    adapters = list(session.adapters.values())
    if session.trust_env or not adapters or not all(isinstance(a, GuardedAdapter) for a in adapters):
        raise ValueError("webhook deliveries need a session from transport.new_session()")
    if any(adapter.allow != safety.normalise_allow(allow) for adapter in adapters):
        raise ValueError("the session's allow-list differs from the one given to deliver()")
