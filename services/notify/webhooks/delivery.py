"""One webhook attempt: POST the signed body, through the guarded transport, and say what came of
it. Network trouble is an outcome to record, never an exception: the retry schedule deals with it."""
from __future__ import annotations

import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass

import requests
from urllib3.exceptions import HTTPError as Urllib3Error

from services.notify.webhooks import retry, safety, transport

USER_AGENT = "dayofaction-webhooks/1"
EXCERPT_CHARS = 500
_CHUNK = 16 * 1024


@dataclass
class Attempt:
    """What an attempt came to. `error` is set when no usable answer came (a refused address, a
    timeout, a failed connection) and for a redirect; a plain non-2xx has only its status code."""

    status_code: int | None
    latency_ms: float
    error: str | None
    retry_after: float | None  # seconds the receiver asked us to wait (429/503), at most 24 h
    response_excerpt: str

    @property
    def ok(self) -> bool:
        return self.error is None and self.status_code is not None and 200 <= self.status_code <= 299


def deliver(url: str, body: bytes, headers: dict, *, allow: Sequence[str] = (), connect_timeout: float = 5.0,
            read_timeout: float = 10.0, max_response_bytes: int = 64 * 1024,
            session: requests.Session | None = None) -> Attempt:
    """POST `body` to `url` once. A given `session` must come from `transport.new_session(allow)`
    (it pools connections across attempts); otherwise one is made for this attempt and closed."""
    if not isinstance(body, bytes):
        raise TypeError("the webhook body is sent as the exact bytes that were signed")
    allow = safety.normalise_allow(allow)
    if session is not None:
        transport.require_guarded(session, allow)
    started = time.monotonic()
    try:
        url = safety.normalise_url(url, allow)  # rules may have tightened since registration
    except safety.UnsafeURL as e:
        return Attempt(None, 0.0, str(e), None, "")
    own_session = session is None
    session = transport.new_session(allow) if own_session else session
    try:
        return _post(session, url, body, headers, started, (connect_timeout, read_timeout), max_response_bytes)
    finally:
        if own_session:
            session.close()


def _post(session, url, body, headers, started, timeout, max_response_bytes) -> Attempt:
    def failed(error: str) -> Attempt:
        return Attempt(None, _ms_since(started), error, None, "")

    try:
        response = session.post(url, data=body, headers={"User-Agent": USER_AGENT, "Accept-Encoding": "identity",
                                                         **headers},
                                timeout=timeout, allow_redirects=False, stream=True)
    except safety.ForbiddenAddress as e:
        return failed(str(e))
    except requests.ConnectTimeout:
        return failed("timed out connecting")
    except requests.ReadTimeout:
        return failed("timed out reading")
    except requests.exceptions.SSLError as e:
        return failed(f"TLS failed: {_root_message(e)}")
    except requests.ConnectionError as e:
        return failed(_connection_message(e))
    latency_ms = _ms_since(started)
    with response:
        raw = _read_limited(response, max_response_bytes, deadline=time.monotonic() + timeout[1])
    status = response.status_code
    retry_after = retry.parse_retry_after(response.headers.get("Retry-After")) if status in (429, 503) else None
    error = "redirects are not followed" if 300 <= status <= 399 else None
    excerpt = raw.decode("utf-8", errors="replace")[:EXCERPT_CHARS]
    return Attempt(status, latency_ms, error, retry_after, excerpt)


def _read_limited(response: requests.Response, limit: int, deadline: float) -> bytes:
    """At most `limit` bytes, for at most until `deadline`: a receiver may not make us read a flood
    or trickle it out for ever. Undecoded, so a small compressed body cannot swell. The answer's
    status is already known, so trouble here only shortens the excerpt."""
    chunks, size = [], 0
    try:
        while size < limit and time.monotonic() < deadline:
            chunk = response.raw.read1(min(_CHUNK, limit - size), decode_content=False)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except (requests.RequestException, Urllib3Error, OSError):
        pass
    return b"".join(chunks)


def _ms_since(started: float) -> float:
    return round((time.monotonic() - started) * 1000, 1)


def _root(exc: BaseException) -> BaseException:
    """The innermost cause, past requests' and urllib3's wrappers."""
    for _ in range(10):
        inner = getattr(exc, "reason", None)
        if not isinstance(inner, BaseException):
            inner = next((a for a in exc.args if isinstance(a, BaseException)), None) or exc.__cause__
        if inner is None:
            break
        exc = inner
    return exc


def _root_message(exc: BaseException) -> str:
    root = _root(exc)
    text = getattr(root, "verify_message", None) or getattr(root, "strerror", None) or str(root)
    return text or type(root).__name__


def _connection_message(exc: requests.ConnectionError) -> str:
    if isinstance(_root(exc), socket.gaierror):
        return f"could not resolve the host name: {_root_message(exc)}"
    return f"connection failed: {_root_message(exc)}"
