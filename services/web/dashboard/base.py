"""What every tab of the coordinator dashboard shares: its blueprint (coordinators only), how a
tab is drawn (a refused form it no longer holds has its errors at the page's top), a button's
value checked, the lists the forms offer, and the names of campaigns and organisations."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from flask import Blueprint, abort, current_app, g, render_template, request

from services.web import formats
from services.web.client import Api
from services.web.forms import DEFAULT_ACTIVITY_TYPES
from services.web.i18n import reader_language
from services.web.pages import coordinators_area, optional

MATERIAL_KINDS = ("statement", "lecture", "song", "slogan", "poster", "video", "other")
LANGUAGE_CHOICES = 3  # an organisation's languages: this many lists, the first its main language
LIST_LIMIT = 200  # the APIs' largest page
NAME_PAGES = 10  # at most this many pages of organisations looked through for the queue's names

bp = Blueprint("dashboard", __name__)
bp.before_request(coordinators_area)


def show(template: str, tab: str, **context) -> str:
    """A dashboard page; a refused form it no longer holds (an item decided meanwhile, a file
    gone) has its errors said at the page's top instead — the page drawn once more."""
    html = render_template(template, tab=tab, **context)
    failed = g.get("failed_form")
    if failed is not None and not failed.shown:
        failed.id = "page"
        html = render_template(template, tab=tab, **context)
    return html


def chosen(name: str, allowed: tuple[str, ...]) -> str:
    """A button's value, exactly one of `allowed`: a garbled form does nothing, least of all
    the destructive thing."""
    value = request.form.get(name, "")
    if value not in allowed:
        abort(400, f"{name}: one of {', '.join(allowed)}.")
    return value


def choices() -> dict:
    """The lists the forms offer, in the page's language."""
    language = reader_language()
    return {"country_choices": formats.countries(language), "zone_choices": formats.time_zones(language),
            "language_choices": formats.languages(language), "activity_defaults": DEFAULT_ACTIVITY_TYPES,
            "material_kinds": MATERIAL_KINDS,
            "language_lists": LANGUAGE_CHOICES, "keep_days": current_app.config["PARTICIPATION_KEEP_DAYS"]}


def every_campaign(api: Api, token: str) -> list[dict]:
    """Every campaign, drafts too (a coordinator sees them), in one request."""
    return api.get("/api/events/campaigns", params={"limit": LIST_LIMIT}, token=token)["items"]


def organisation_names(api: Api, token: str, wanted: set[str]) -> dict[str, dict]:
    """The registry's organisations by id, as far as `wanted` needs: its list a page of 200 at
    a time — one request for a coalition of up to 200. A registry that cannot answer leaves the
    names out (the page goes on)."""
    found: dict[str, dict] = {}
    params: dict = {"limit": LIST_LIMIT}
    for _ in range(NAME_PAGES):
        if not wanted - found.keys():
            break
        listed = optional(lambda p=params: api.get("/api/registry/organisations", params=p, token=token),
                          default={})
        found.update({o["id"]: o for o in listed.get("items", [])})
        cursor = parse_qs(urlsplit(listed.get("next") or "").query).get("cursor")
        if not cursor:
            break
        params = {"limit": LIST_LIMIT, "cursor": cursor[0]}
    return found
