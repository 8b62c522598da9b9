"""The composition root: every service's kernel and app, built together.

Services never import each other; this module, like the CLI, sits above them all and is the
one place that knows them all. It derives the bus topology from every service's handler
declarations when the process starts and hands it to each kernel it builds (a relay declares
every queue; a worker's queue is bound to what its handlers take). The embedded mode serves
every app from one process under one origin, `/api/<service>/…`, with the in-process bus.
"""
from __future__ import annotations

import logging

from flask import Flask, jsonify

from services.events.app import SPEC as EVENTS
from services.media.app import SPEC as MEDIA
from services.notify.app import SPEC as NOTIFY
from services.registry import app as registry_app
from services.web.app import create_app as create_web_app
from services.web.client import INTERNAL, Api
from shared.bus.topology import Topology
from shared.config import SERVICES, Config
from shared.http.app import trust_proxies
from shared.kernel import Kernel
from shared.service import ServiceSpec

log = logging.getLogger("doa.platform")

SPECS: dict[str, ServiceSpec] = {"registry": registry_app.SPEC, "events": EVENTS, "media": MEDIA,
                                 "notify": NOTIFY}
assert tuple(SPECS) == SERVICES
# Which types each service's queue is bound to: what its handlers declare (nothing generated).
TOPOLOGY = Topology.of({name: spec.handlers.types for name, spec in SPECS.items()})


def build_kernel(name: str, config: Config, jwks=None) -> Kernel:
    """One service's kernel, with the platform's topology (what its worker needs)."""
    kernel = registry_app.build(config) if name == "registry" else SPECS[name].build(config, jwks=jwks)
    kernel.topology = TOPOLOGY
    return kernel


def build_kernels(config: Config) -> dict[str, Kernel]:
    registry = build_kernel("registry", config)
    # In one process the services read the registry's public keys directly.
    jwks = registry.dependencies["signer"].jwks
    kernels = {"registry": registry}
    for name in SERVICES[1:]:
        kernels[name] = build_kernel(name, config, jwks=jwks)
    return kernels


class PathDispatcher:
    """Sends /api/<service>/… to that service's app (paths unchanged), the rest to `root`."""

    def __init__(self, apps: dict[str, Flask], root: Flask):
        self.apps = apps
        self.root = root

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        parts = path.split("/", 3)
        if len(parts) >= 3 and parts[1] == "api" and parts[2] in self.apps:
            return self.apps[parts[2]](environ, start_response)
        return self.root(environ, start_response)


def create_root_app(apps: dict[str, Flask], config: Config, api: Api) -> Flask:
    """The web front at `/`, with the platform's own health checks beside it."""
    root = create_web_app(config, api)
    trust_proxies(root, config.PROXY_HOPS)  # the scheme a TLS proxy forwards makes the session cookie Secure

    @root.get("/api")
    def index():
        links = "".join(f'<li><a href="/api/{n}/docs">{n}</a> — <a href="/api/{n}/openapi.json">'
                        f"openapi.json</a></li>" for n in apps)
        return (f"<!doctype html><meta charset=utf-8><title>dayofaction APIs</title>"
                f"<h1>dayofaction</h1><p>API documentation:</p><ul>{links}</ul>")

    def _ask_each(path: str):
        results = {}
        for name, app in apps.items():
            response = app.test_client().get(path)
            results[name] = response.status_code
        ok = all(code == 200 for code in results.values())
        return jsonify(status="ok" if ok else "degraded", services=results), 200 if ok else 503

    root.add_url_rule("/healthz", "healthz", lambda: _ask_each("/healthz"))
    root.add_url_rule("/readyz", "readyz", lambda: _ask_each("/readyz"))
    return root


class EmbeddedPlatform:
    """All services, their apps and their bus workers, in this process."""

    def __init__(self, config: Config):
        self.config = config
        self.kernels = build_kernels(config)
        self.apps = {name: SPECS[name].create_app(kernel=k) for name, k in self.kernels.items()}
        # The web front calls the APIs as any client would, handed straight to this process.
        api = Api(INTERNAL)
        self.wsgi = PathDispatcher(self.apps, create_root_app(self.apps, config, api))
        api.wsgi_app = self.wsgi
        self.web_api = api
        self.workers = []

    def start_workers(self) -> None:
        self.workers = [k.worker().start() for k in self.kernels.values()]

    def stop(self) -> None:
        for worker in self.workers:  # all at once: each consumer takes a moment to notice
            worker.request_stop()
        for worker in self.workers:
            worker.stop()
        for kernel in self.kernels.values():
            kernel.db.dispose()
