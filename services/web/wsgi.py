"""The web front on its own, for gunicorn (the Procfile and docker-compose.yml):
`gunicorn 'services.web.wsgi:create_app()'`. It reads the services' APIs over HTTP at
WEB_API_URL: the gateway (`http://gateway:80`), or each service's own address
(`registry=http://127.0.0.1:8101,events=…,media=…,notify=…`)."""
from __future__ import annotations

from flask import Flask, jsonify

from services.web import api_relay
from services.web.app import create_app as create_web_app
from services.web.client import Api, ApiError, api
from shared.config import SERVICES, Config
from shared.http.app import trust_proxies
from shared.logs import configure_logging

READY_TIMEOUT = 2.0  # seconds each service may take to answer the web's /readyz


def create_app(config: Config | None = None) -> Flask:
    config = config or Config()
    configure_logging(config.LOG_LEVEL, config.LOG_FORMAT)
    services_api = Api(api_url(config))
    app = create_web_app(config, services_api)  # its session key: WEB_SECRET_KEY, or the file all workers share
    trust_proxies(app, config.PROXY_HOPS)
    if services_api.services is not None:  # no gateway needed: the pages' /api/ links answer here too
        app.register_blueprint(api_relay.bp)
    # App-level endpoints, as the embedded platform names its own (account.NO_ACCOUNT: no session asked).
    app.add_url_rule("/healthz", "healthz", healthz)
    app.add_url_rule("/readyz", "readyz", readyz)
    return app


def healthz():
    """This process answers (whatever the services do)."""
    return jsonify(status="ok")


def readyz():
    """Every service answers its own /readyz through WEB_API_URL: pages can be rendered."""
    results = {}
    for name in SERVICES:
        try:
            api().get(f"/api/{name}/readyz", timeout=READY_TIMEOUT)
            results[name] = 200
        except ApiError as exc:
            results[name] = exc.status
    ok = all(code == 200 for code in results.values())
    return jsonify(status="ok" if ok else "degraded", services=results), 200 if ok else 503


def api_url(config: Config) -> str:
    """WEB_API_URL, checked. Without it there is nothing to render pages from: refuse to start
    (an exception, not SystemExit: gunicorn then stops instead of booting the worker again)."""
    value = config.WEB_API_URL.strip()
    if not value:
        raise RuntimeError("WEB_API_URL is empty: the web front on its own needs the services' APIs, e.g. "
                         "WEB_API_URL=http://gateway:80 or WEB_API_URL=registry=http://127.0.0.1:8101,"
                         "events=http://127.0.0.1:8102,media=http://127.0.0.1:8103,notify=http://127.0.0.1:8104 "
                         "(`make run` serves it with the platform, without this setting).")
    try:
        services = Api(value).services
    except ValueError as exc:
        raise RuntimeError(f"WEB_API_URL: {exc}") from None
    if services is not None and services != set(SERVICES):
        raise RuntimeError(f"WEB_API_URL names {', '.join(sorted(services)) or 'no service'}; "
                         f"give each of {', '.join(SERVICES)} its base URL, or one base for all.")
    return value
