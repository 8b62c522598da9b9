"""The other services' HTTP APIs, as the web front calls them: with `requests`, over the
network in distributed mode (WEB_API_URL: the gateway, or each service's own address), or
handed straight to the platform's WSGI app in embedded mode (the same requests and answers,
no socket)."""
from __future__ import annotations

import io
import logging
import re
import threading
from typing import Any
from urllib.parse import urlsplit

import flask
import requests
from requests.adapters import BaseAdapter
from werkzeug.test import Client, EnvironBuilder
from werkzeug.wrappers import Request

INTERNAL = "http://doa.internal"  # the base URL when the platform answers in-process
ANY = "*"  # the key of the one base every service answers under (the gateway's, or INTERNAL)
SERVICE_NAME = re.compile(r"[a-z][a-z0-9_-]*")


def parse_bases(spec: str) -> dict[str, str]:
    """WEB_API_URL's two forms: one base URL where every `/api/<service>/` answers
    (`http://gateway:80`), or a base per service (`registry=http://127.0.0.1:8101,events=…`).
    Answers service name -> base URL without a trailing slash, or {ANY: base} for the first."""
    items = [item.strip() for item in spec.split(",") if item.strip()]
    if not items:
        raise ValueError("no API base URL given")
    if len(items) == 1 and "=" not in items[0]:
        return {ANY: _base(items[0])}
    bases: dict[str, str] = {}
    for item in items:
        name, _, url = (part.strip() for part in item.partition("="))
        if not SERVICE_NAME.fullmatch(name) or not url:
            raise ValueError(f"{spec!r}: give one base URL, or `service=URL` pairs separated by commas")
        if name in bases:
            raise ValueError(f"{spec!r}: {name} is given twice")
        bases[name] = _base(url)
    return bases


def _base(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(f"{url!r} is not an http(s) base URL")
    return url.rstrip("/")


JSON_TYPES = ("application/json", "application/problem+json", "application/geo+json")
log = logging.getLogger("doa.web")


# A sign-up's private key in a path (/p/<key>, /participations/<key>): never written to a log.
PRIVATE_KEY_IN_PATH = re.compile(r"(/p/|/participations/)[^/?#]+")


def logged_path(path: str) -> str:
    """A path as a log line may write it: a private link's key left out (`/p/…`)."""
    return PRIVATE_KEY_IN_PATH.sub(r"\1…", path)


def _service(path: str) -> str:
    parts = path.split("/")
    return parts[2] if len(parts) > 2 and parts[1] == "api" else "platform's"


# Who the web front asks for: the services trust one hop of X-Forwarded-For (PROXY_HOPS=1),
# which is the web front when it reaches them directly, as docker-compose has it.
VISITOR_HEADER = "X-Forwarded-For"


def _visitor() -> str | None:
    """The address of the visitor whose page is being made (behind the gateway, the one it
    names: the web app trusts it as the services do), or None outside a request."""
    return flask.request.remote_addr if flask.has_request_context() else None


class ApiError(Exception):
    def __init__(self, status: int, problem: dict, retry_after: str | None = None):
        super().__init__(problem.get("detail") or f"HTTP {status}")
        self.status, self.problem = status, problem
        self.retry_after = retry_after  # a 429's or 503's Retry-After: seconds, as the service said


RETRY_AFTER = re.compile(r"\d{1,6}")  # delta-seconds; an HTTP date or anything else is not passed on


def retry_after_of(response: requests.Response) -> str | None:
    """The answer's Retry-After in seconds; kept for this request (the page's own 429 says
    it too, see the web app's headers)."""
    value = response.headers.get("Retry-After", "").strip()
    if not RETRY_AFTER.fullmatch(value):
        return None
    if flask.has_request_context():
        flask.g.retry_after = value
    return value


class StreamBody:
    """A request body the web front passes on as it arrives (an upload, a relayed request), of
    the length its sender announced: requests sends it with that Content-Length, in chunks;
    in embedded mode it becomes the called app's input stream. Never held whole here."""

    CHUNK = 256 * 1024

    def __init__(self, stream, length: int):
        self.stream, self.length = stream, length

    def __len__(self) -> int:
        return self.length

    def read(self, size: int = -1) -> bytes:
        return self.stream.read(self.CHUNK if size is None or size < 0 else size)

    def __iter__(self):
        while chunk := self.read(self.CHUNK):
            yield chunk


class WsgiAdapter(BaseAdapter):
    """A requests transport that calls a WSGI app in this process."""

    def __init__(self, app):
        super().__init__()
        self.client = Client(app)

    def send(self, request, **kwargs):
        parts = urlsplit(request.url)
        body = request.body.encode() if isinstance(request.body, str) else request.body
        headers = dict(request.headers)
        # In-process there is no proxy to trust: the visitor the web front names is the peer.
        peer = {"REMOTE_ADDR": headers.pop(VISITOR_HEADER)} if VISITOR_HEADER in headers else {}
        if hasattr(body, "read"):  # an upload: the app reads it as it would read a socket, never whole here
            environ = EnvironBuilder(parts.path, query_string=parts.query, method=request.method,
                                     headers=headers, environ_overrides=peer).get_environ()
            environ.update({"wsgi.input": body, "CONTENT_LENGTH": request.headers.get("Content-Length", "")})
            answer = self.client.open(Request(environ))
        else:
            answer = self.client.open(parts.path, query_string=parts.query, method=request.method,
                                      headers=headers, data=body or None, environ_overrides=peer)
        response = requests.Response()
        response.status_code = answer.status_code
        response.headers.update(answer.headers)
        response.raw = io.BytesIO(answer.get_data())
        response.url, response.request, response.encoding = request.url, request, "utf-8"
        return response

    def close(self):
        pass


class Api:
    """`base_url` in either form of parse_bases; a request to `/api/<service>/…` goes to that
    service's base (the one base, in the first form). With `wsgi_app` (set before the first
    request), nothing leaves the process: the app answers every base."""

    def __init__(self, base_url: str, wsgi_app=None, timeout: float = 10.0):
        self.bases = parse_bases(base_url)
        self.wsgi_app, self.timeout = wsgi_app, timeout
        self.local = threading.local()

    @property
    def services(self) -> set[str] | None:
        """The services given a base of their own; None when one base serves them all."""
        return None if ANY in self.bases else set(self.bases)

    def url(self, path: str) -> str:
        if ANY in self.bases:
            return self.bases[ANY] + path
        parts = path.split("/", 3)
        service = parts[2] if len(parts) > 2 and parts[1] == "api" else None
        if service not in self.bases:
            raise ValueError(f"no API base for {path!r}: the bases are for {', '.join(sorted(self.bases))}")
        return self.bases[service] + path

    def _session(self) -> requests.Session:
        if not hasattr(self.local, "session"):
            session = requests.Session()
            session.trust_env = False
            if self.wsgi_app is not None:
                adapter = WsgiAdapter(self.wsgi_app)
                for base in set(self.bases.values()):
                    session.mount(base + "/", adapter)
            self.local.session = session
        return self.local.session

    def send(self, method: str, path: str, *, token: str | None = None, lang: str | None = None,
             **kwargs) -> requests.Response:
        """The answer as it came, whatever its status (for a caller that relays it, headers and
        all); ApiError only when nothing answered. A file-like `data` with a length streams."""
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        visitor = _visitor()
        if visitor:  # the services count rate limits per visitor, not one count for the whole site
            headers[VISITOR_HEADER] = visitor
        if lang:
            headers["Accept-Language"] = lang
        kwargs.setdefault("timeout", self.timeout)
        url = self.url(path)
        try:
            return self._session().request(method, url, headers=headers, **kwargs)
        except requests.RequestException as exc:  # distributed: a service (or the gateway) is down or slow
            status = 504 if isinstance(exc, requests.Timeout) else 502
            # Where it was asked stays in the log: a page does not show the network's inside.
            log.warning("%s %s: %s did not answer (%s)", method, logged_path(path), urlsplit(url).netloc,
                        logged_path(str(exc)))
            raise ApiError(status, {"title": "Bad Gateway" if status == 502 else "Gateway Timeout", "status": status,
                                    "detail": f"The {_service(path)} service did not answer; try again in a moment."}
                           ) from exc

    def request(self, method: str, path: str, **kwargs) -> Any:
        """The answer's JSON (None when empty); ApiError for a refusal, and a 502 for an answer
        that is not the JSON a service gives (a proxy's page, a cut-off body)."""
        return self._json(self.send(method, path, **kwargs), method, path)

    def get_if_changed(self, path: str, etag: str | None, **kwargs) -> tuple[Any, str | None]:
        """(the JSON, its ETag) of a GET; (None, etag) when the service says it has not changed
        since the ETag given (304): the caller keeps what it made of it last time."""
        headers = {**kwargs.pop("headers", {}), **({"If-None-Match": etag} if etag else {})}
        response = self.send("GET", path, headers=headers, **kwargs)
        if etag and response.status_code == 304:
            return None, etag
        return self._json(response, "GET", path), response.headers.get("ETag")

    def raise_refusal(self, response: requests.Response, method: str, path: str) -> None:
        """An answer of 400 or more as the ApiError it means (for a caller that streams the
        good ones on as they come)."""
        if response.status_code >= 400:
            self._json(response, method, path)

    def _json(self, response: requests.Response, method: str, path: str) -> Any:
        if response.status_code >= 400:
            try:
                problem = response.json()
            except ValueError:
                problem = {}
            if not isinstance(problem, dict):
                problem = {}
            problem.setdefault("detail", f"The {_service(path)} service refused (HTTP {response.status_code}).")
            raise ApiError(response.status_code, problem, retry_after_of(response))
        if response.status_code == 204 or not response.content:
            return None
        try:
            if not response.headers.get("Content-Type", "").startswith(JSON_TYPES):
                raise ValueError(response.headers.get("Content-Type"))
            return response.json()
        except ValueError:
            log.warning("%s %s: answered %s that is not JSON", method, logged_path(path), response.status_code)
            raise ApiError(502, {"title": "Bad Gateway", "status": 502,
                                 "detail": f"The {_service(path)} service gave an answer that cannot be read."}
                           ) from None

    def get(self, path: str, **kwargs) -> Any:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs) -> Any:
        return self.request("POST", path, **kwargs)


EXTENSION = "doa.web_api"  # where create_app keeps the app's Api


def api() -> Api:
    """The current app's client of the services' APIs (one per app, made by whoever made the
    app: the embedded platform's in-process one, or WEB_API_URL's)."""
    return flask.current_app.extensions[EXTENSION]
