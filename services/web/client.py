"""The other services' HTTP APIs, as the web front calls them: with `requests`, over the
network in distributed mode (WEB_API_URL, e.g. the gateway), or handed straight to the
platform's WSGI app in embedded mode (the same requests and answers, no socket)."""
from __future__ import annotations

import io
import threading
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import BaseAdapter
from werkzeug.test import Client

INTERNAL = "http://doa.internal"  # the base URL when the platform answers in-process


class ApiError(Exception):
    def __init__(self, status: int, problem: dict):
        super().__init__(problem.get("detail") or f"HTTP {status}")
        self.status, self.problem = status, problem


class WsgiAdapter(BaseAdapter):
    """A requests transport that calls a WSGI app in this process."""

    def __init__(self, app):
        super().__init__()
        self.client = Client(app)

    def send(self, request, **kwargs):
        parts = urlsplit(request.url)
        body = request.body.encode() if isinstance(request.body, str) else request.body
        answer = self.client.open(parts.path, query_string=parts.query, method=request.method,
                                  headers=dict(request.headers), data=body or None)
        response = requests.Response()
        response.status_code = answer.status_code
        response.headers.update(answer.headers)
        response.raw = io.BytesIO(answer.get_data())
        response.url, response.request, response.encoding = request.url, request, "utf-8"
        return response

    def close(self):
        pass


class Api:
    def __init__(self, base_url: str, wsgi_app=None, timeout: float = 10.0):
        self.base = base_url.rstrip("/")
        self.wsgi_app, self.timeout = wsgi_app, timeout
        self.local = threading.local()

    def _session(self) -> requests.Session:
        if not hasattr(self.local, "session"):
            session = requests.Session()
            session.trust_env = False
            if self.wsgi_app is not None:
                session.mount(self.base + "/", WsgiAdapter(self.wsgi_app))
            self.local.session = session
        return self.local.session

    def request(self, method: str, path: str, *, token: str | None = None, lang: str | None = None,
                **kwargs) -> Any:
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if lang:
            headers["Accept-Language"] = lang
        response = self._session().request(method, self.base + path, headers=headers, timeout=self.timeout,
                                           **kwargs)
        if response.status_code >= 400:
            try:
                problem = response.json()
            except ValueError:
                problem = {"detail": response.text[:200]}
            raise ApiError(response.status_code, problem)
        if response.status_code == 204 or not response.content:
            return None
        if response.headers.get("Content-Type", "").startswith(("application/json", "application/problem+json",
                                                                 "application/geo+json")):
            return response.json()
        return response.content

    def get(self, path: str, **kwargs) -> Any:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs) -> Any:
        return self.request("POST", path, **kwargs)
