"""The dashboard's record tab (/me/record), a blueprint of its own (`record`, coordinators only):
the registry's audit log with filters, names for the ids it holds, and the whole log exported through the web (the
coordinator's token stays on the server)."""
from __future__ import annotations

from datetime import date
from urllib.parse import parse_qs, urlencode, urlsplit

from flask import Blueprint, Response, g, request, stream_with_context

from services.web.client import Api, ApiError, api
from services.web.dashboard.base import organisation_names, show
from services.web.pages import coordinators_area, optional, signed_in

FILTERS = ("action", "actor", "subject", "since", "until")
PAGE = 50


def filters_of(args) -> dict:
    """The filters as typed (trimmed, bounded); dates as days, sent to the API as UTC midnights."""
    values = {name: args.get(name, "").strip()[:80] for name in FILTERS}
    query: dict = {{"actor": "actor_id", "subject": "subject_id"}.get(n, n): values[n] for n in ("action", "actor", "subject") if values[n]}
    for name in ("since", "until"):
        try:
            if values[name]:
                query[name] = f"{date.fromisoformat(values[name]).isoformat()}T00:00:00+00:00"
        except ValueError:
            values[name] = ""  # not a day: the field comes back empty rather than the page failing
    return {"values": values, "query": query}


def coordinator_names(api: Api, token: str) -> dict[str, str]:
    listed = optional(lambda: api.get("/api/registry/coordinators", params={"limit": 200}, token=token), default={})
    return {c["id"]: c["name"] for c in listed.get("items", [])}


bp = Blueprint("record", __name__)


bp.before_request(coordinators_area)


@bp.get("/me/record")
@signed_in
def record():
    chosen = filters_of(request.args)
    params = {**chosen["query"], "limit": PAGE}
    if request.args.get("cursor"):
        params["cursor"] = request.args["cursor"][:500]
    error = None
    try:
        listed = api().get("/api/registry/audit", params=params, token=g.token)
    except ApiError as exc:
        if exc.status >= 500:
            raise
        listed, error = {"items": []}, exc.problem.get("detail")
    entries = listed.get("items", [])
    cursor = parse_qs(urlsplit(listed.get("next") or "").query).get("cursor")
    older = f"/me/record?{urlencode({**chosen['values'], 'cursor': cursor[0]})}" if cursor else None
    names = coordinator_names(api(), g.token)
    orgs = organisation_names(api(), g.token, {e["actor_id"] for e in entries if e["actor_role"] == "organisation"}
                              | {e["subject_id"] for e in entries if e["subject_kind"] == "organisation"})
    names.update({i: o["abbreviation"] for i, o in orgs.items()})
    export = urlencode({k: v for k, v in chosen["values"].items() if v})
    return show("dashboard_record.html", "record", entries=entries, names=names, values=chosen["values"],
                older=older, error=error, export=export)


@bp.get("/me/record/export.<any(jsonl, csv):format_>")
@signed_in
def export(format_):
    chosen = filters_of(request.args)
    path = "/api/registry/audit/export"
    upstream = api().send("GET", path, params={**chosen["query"], "format": format_}, token=g.token, stream=True)
    api().raise_refusal(upstream, "GET", path)  # says why, as every refusal does
    return Response(stream_with_context(upstream.iter_content(64 * 1024)),
                    headers={k: upstream.headers[k] for k in ("Content-Type", "Content-Disposition")
                             if k in upstream.headers} | {"Cache-Control": "no-store"})
