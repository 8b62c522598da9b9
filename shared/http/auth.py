"""Who is calling: the bearer token of the request, checked once and kept on `g`."""
from __future__ import annotations

import functools

from flask import current_app, g, request

from shared.auth import AuthError, Principal
from shared.http.problems import fail

WWW_AUTH = {"WWW-Authenticate": 'Bearer realm="dayofaction"'}


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def current_principal() -> Principal | None:
    """The verified caller, or None for the anonymous public. A bad token is a 401."""
    if "principal" in g:
        return g.principal
    token = bearer_token()
    principal = None
    if token is not None:
        try:
            principal = current_app.extensions["doa"].verifier.verify(token)
        except AuthError as exc:
            fail(401, str(exc), headers=WWW_AUTH)
        except OSError as exc:  # the registry's keys could not be fetched
            fail(503, f"cannot verify tokens right now: {exc}", headers={"Retry-After": "5"})
    g.principal = principal
    return principal


def require_principal(*roles: str) -> Principal:
    principal = current_principal()
    if principal is None:
        if request.headers.get("Authorization"):
            fail(401, "The Authorization header must be 'Bearer <token>'.", headers=WWW_AUTH)
        fail(401, "This needs a token: exchange your API key at POST /api/registry/tokens.",
             headers=WWW_AUTH)
    if roles and principal.role not in roles:
        fail(403, f"This needs the role {' or '.join(roles)}; you are {principal.role}.")
    return principal


def require_coordinator() -> Principal:
    return require_principal("coordinator")


def require_owner_or_coordinator(organisation_id: str) -> Principal:
    principal = require_principal()
    if not (principal.is_coordinator or principal.owns(organisation_id)):
        fail(403, "An organisation may act only on its own resources.")
    return principal


def requires(*roles: str, owner: str | None = None):
    """Check the caller before anything else runs, the body's validation included.

    `owner` names the view argument holding an organisation id: that organisation and
    coordinators pass. Otherwise the caller needs one of `roles` (any role if none given).
    """

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if owner is not None:
                require_owner_or_coordinator(str(kwargs[owner]))
            else:
                require_principal(*roles)
            return view(*args, **kwargs)

        # flask-smorest reads this to document the view as needing a token.
        apidoc = wrapper.__dict__.setdefault("_apidoc", {})
        manual = apidoc.setdefault("manual_doc", {})
        manual["security"] = [{"bearer": []}]
        manual.setdefault("responses", {}).update({401: "UNAUTHORIZED", 403: "FORBIDDEN"})
        return wrapper

    return decorate
