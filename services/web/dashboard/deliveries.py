"""The dashboard's deliveries tab (/me/deliveries): the webhook and e-mail deliveries that fail."""
from __future__ import annotations

from flask import g

from services.web.client import api
from services.web.dashboard.base import bp, show
from services.web.pages import optional, signed_in


@bp.get("/me/deliveries")
@signed_in
def deliveries():
    return show("dashboard_deliveries.html", "deliveries",
                problems=optional(lambda: api().get("/api/notify/delivery-problems", token=g.token), default={}))
