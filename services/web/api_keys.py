"""Who holds which API key and when each was last used: a signed-in person's own keys, and a
coordinator's view of an organisation's. A key used when its holder did not use it is the sign
of a stolen key; the list lets them see it (and a coordinator revoke it at the API)."""
from __future__ import annotations

from flask import Blueprint, g, render_template

from services.web.client import api
from services.web.pages import coordinators_only, signed_in

KEYS_SHOWN = 100  # a holder has a handful; the API's page size

bp = Blueprint("api_keys", __name__)


@bp.get("/me/keys")
@signed_in
def own_keys():
    owner = "coordinators" if g.role == "coordinator" else "organisations"
    keys = api().get(f"/api/registry/{owner}/{g.subject}/keys", params={"limit": KEYS_SHOWN}, token=g.token)
    return render_template("api_keys.html", keys=keys["items"], organisation=None)


@bp.get("/me/organisations/<uuid:organisation_id>/keys")
@signed_in
def organisation_keys(organisation_id):
    coordinators_only()
    organisation = api().get(f"/api/registry/organisations/{organisation_id}", token=g.token)
    keys = api().get(f"/api/registry/organisations/{organisation_id}/keys", params={"limit": KEYS_SHOWN},
                     token=g.token)
    return render_template("api_keys.html", keys=keys["items"], organisation=organisation)
