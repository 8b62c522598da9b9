"""The web front's app: its settings, the per-app things its views reach (the API client, the
sessions' keys, the kept campaign pages) and its blueprints, one per area — the site's hooks
and error pages (site.py), the public pages (public.py), signing in (account.py), the
organisation area (organisation.py), the coordinator dashboard and its record (dashboard/),
the Security page (security.py), API keys (api_keys.py) and resumable uploads
(uploads.py)."""
from __future__ import annotations

import os
import tempfile

from cryptography.fernet import Fernet
from flask import Flask

from services.web import (
    account,
    api_keys,
    client,
    dashboard,
    door,
    formats,
    forms,
    hosting,
    organisation,
    participation,
    public,
    security,
    site,
    uploads,
)
from services.web.charts import cumulative_chart
from services.web.client import Api
from services.web.page_cache import RenderedPages
from services.web.session_cookie import SessionOverTls
from services.web.signouts import SignOuts
from shared.config import Config
from shared.http.app import install_request_id_and_problems

# In this order: the site's form limits come before any form is read (the account's CSRF check).
BLUEPRINTS = (site.bp, public.bp, participation.bp, account.bp, organisation.bp, dashboard.bp, dashboard.record.bp,
              security.bp, uploads.bp, api_keys.bp, hosting.bp, door.bp)


def create_app(config: Config, api: Api) -> Flask:
    app = Flask(__name__, template_folder="templates")
    app.jinja_env.autoescape = True  # every template: user text is shown as text
    app.jinja_env.globals["cumulative_chart"] = cumulative_chart
    formats.register(app)
    forms.register(app)
    secret = web_secret(config)
    app.secret_key = secret
    app.config["PUBLIC_URL"] = config.PUBLIC_URL  # a sign-up's private link, as people keep it
    app.config["PARTICIPATION_KEEP_DAYS"] = config.PARTICIPATION_KEEP_DAYS  # what a campaign's empty field means
    account.session_settings(app, secure=config.PUBLIC_URL.startswith("https://"))
    app.session_interface = SessionOverTls()  # Secure behind a TLS proxy too (PROXY_HOPS)
    app.extensions[client.EXTENSION] = api  # client.api() in every view
    app.extensions[account.EXTENSION] = account.SignIns(
        Fernet(secret), SignOuts(config.var_dir / "web-sessions.sqlite"), config.WEB_SESSION_HOURS * 3600)
    app.extensions[public.EXTENSION] = RenderedPages()
    # X-Request-ID, and problem+json for API clients; first, so that the site's error pages replace its.
    install_request_id_and_problems(app)
    for bp in BLUEPRINTS:
        app.register_blueprint(bp)
    return app


def web_secret(config: Config) -> bytes:
    """The key that seals session cookies: configured, or made once and kept beside the data.
    Made in a file of its own and linked into place, so workers starting together agree."""
    if config.WEB_SECRET_KEY:
        return config.WEB_SECRET_KEY.encode()
    path = config.var_dir / "web-secret.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".web-secret-")
        try:
            with os.fdopen(descriptor, "wb") as f:
                f.write(Fernet.generate_key())
            os.link(temporary, path)  # fails if another worker got there first: theirs counts
        except FileExistsError:
            pass
        finally:
            os.unlink(temporary)
    return path.read_bytes().strip()
