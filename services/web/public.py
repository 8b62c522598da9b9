"""The public site: the open campaigns, a campaign's page (the call, the countdown, the
signatories, the events, the follow-the-sun timeline, published reports, the material package,
calendar links, the subscription form), the subscription, and an event's page. Every page works
without JavaScript and is rendered from the services' HTTP APIs; a campaign's page is rendered
once per change of what it shows (page_cache.py)."""
from __future__ import annotations

from datetime import date
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, g, make_response, redirect, render_template, request, url_for
from markupsafe import Markup

from services.web import campaign_page, formats, forms, subscription
from services.web.calendar_links import google_calendar_link
from services.web.client import ApiError, api
from services.web.i18n import reader_language, translator
from services.web.page_cache import RenderedPages
from services.web.pages import optional, refusal_page, uuid_or_none
from services.web.sharing import campaign_sharing, event_sharing
from services.web.site import page_query
from services.web.worldmap import legend, render_map

EXTENSION = "doa.web_pages"  # where create_app keeps the app's RenderedPages

bp = Blueprint("public", __name__)


def rendered_pages() -> RenderedPages:
    """The campaign pages this app's process keeps (bounded), with the answers they came from."""
    return current_app.extensions[EXTENSION]


@bp.get("/")
def campaigns():
    found = api().get("/api/events/campaigns", params={"status": "open"}, lang=reader_language())
    return render_template("campaigns.html", campaigns=found["items"])


@bp.get("/campaigns/<uuid:campaign_id>")
def campaign(campaign_id):
    return campaign_page_for(campaign_id)


@bp.post("/campaigns/<uuid:campaign_id>/subscription")
def subscribe(campaign_id):
    """The one form a reader sends without a session (so without a CSRF token): another
    site's page may not send it for its visitors. Browsers say where a request comes from.
    What is wrong is said under its field, in the reader's language, on the page it came from."""
    if not same_site():
        abort(403, "This form is sent from the campaign's own page.")
    t = translator(reader_language())
    values, errors, body = subscription.read(request.form, str(campaign_id), t)
    if not errors:
        try:
            api().post("/api/notify/subscriptions", json=body)
        except ApiError as exc:
            if exc.status not in forms.FORM_ERRORS:
                return refusal_page(exc)
            errors = subscription.api_errors(exc, t)
    if errors:  # the page it came from, the errors under their fields (a program: problem+json)
        event_id = uuid_or_none(values.get("event_id", ""))
        return forms.shown_again(forms.FormState("s", values, errors),
                                 lambda: event_page_for(event_id) if event_id else
                                 campaign_page_for(campaign_id, personal=True))
    if body["scope"] == "event":
        return redirect(url_for("public.event", event_id=body["event_id"], subscribed=1, _anchor="subscribe"), 303)
    return redirect(url_for("public.campaign", campaign_id=campaign_id, subscribed=1, _anchor="subscribe"), 303)


@bp.get("/events/<uuid:event_id>")
def event(event_id):
    return event_page_for(event_id)


def campaign_page_for(campaign_id, personal: bool = False):
    """Rendered once per change of what it shows: one conditional request to the events
    service and one to the media service (a 304 each when nothing changed), however many
    events; a page with a form's errors is rendered for its reader alone."""
    language, campaign_id = reader_language(), str(campaign_id)
    # A signed-in reader's page carries their session's form token, and a form's errors are
    # one reader's: never kept. Otherwise the page is what the parameters it reads and keeps in
    # its links say (a link's ?fbclid= is none of its business), in a language, on a day.
    shared = not personal and g.get("role") is None
    page_key = (campaign_id, language, page_query(), date.today()) if shared else None
    try:
        html, etag = rendered_pages().page(
            (campaign_id, language), page_key,
            lambda known: campaign_page.sources(api(), campaign_id, language, known),
            lambda sources: render_campaign(campaign_id, language, *sources))
    except ApiError as exc:
        if exc.status in (404, 422):
            abort(404)
        raise
    response = make_response(html)
    if shared:
        response.set_etag(etag)
        response.headers["Cache-Control"] = "public, no-cache"  # a proxy may keep it, and asks each time
        response.vary.update(("Accept-Language", "Cookie"))
        response = response.make_conditional(request)
    return response


def render_campaign(campaign_id: str, language: str, overview: dict, media: dict):
    page = campaign_page.context(overview, media, language, request.args)
    focus = page["filters"].get("country") or None

    def cluster_link(country: str, city: str | None) -> str:
        return url_for("public.campaign", campaign_id=campaign_id, country=country, city=city, _anchor="find")

    world = render_map(page.pop("points"), page.pop("counts"), title=page["campaign"]["name"], lang=language,
                       words=translator(language), focus=focus, highlight=focus, cluster_link=cluster_link)
    return render_template("campaign.html", **page, world=Markup(world), legend=legend(),
                           sharing=campaign_sharing(page["campaign"], language), **subscription_form(language))


def event_page_for(event_id):
    language = reader_language()
    try:
        found = api().get(f"/api/events/events/{event_id}", lang=language)
    except ApiError as exc:
        abort(404 if exc.status in (404, 422) else 502)
    reader_zone = request.args.get("tz")
    # The places, if notify can say now: the page shows without them (and then keeps the form).
    places = optional(lambda: api().get(f"/api/notify/events/{event_id}/participation", timeout=3), {})
    places = places if isinstance(places, dict) else {}
    can_sign_up = found["status"] == "approved" and places.get("open", True)  # not a cancelled event's
    hosts = hosts_of(found)
    return render_template("event.html", event=found, campaign={"id": found["campaign_id"]}, places=places,
                           can_sign_up=can_sign_up, hosts=hosts, sharing=event_sharing(found, hosts, language),
                           your_time=formats.zoned_time(found["starts_at"], reader_zone, language)
                           if reader_zone else None,
                           google_link=google_calendar_link(found), **subscription_form(language))


def hosts_of(event: dict) -> list[dict]:
    """The event's organisation and its co-hosts, as the registry shows them to anyone; one the
    registry cannot show now is left out (the page goes on)."""
    ids = [event["organisation_id"], *event.get("co_hosts", [])]
    found = (optional(lambda i=i: api().get(f"/api/registry/organisations/{i}", timeout=3), {}) for i in ids)
    return [organisation for organisation in found if organisation]


def subscription_form(language: str) -> dict:
    """What the subscription form of a campaign's or an event's page needs: every country by
    name in the reader's language, and whether the reader has just subscribed."""
    return {"all_countries": formats.countries(language), "subscribed": request.args.get("subscribed") == "1"}


def same_site() -> bool:
    """Sec-Fetch-Site (every current browser sends it), else Origin, else nothing to judge by
    (a program, an old browser): allowed — the subscription is double opt-in anyway."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        return fetch_site in ("same-origin", "none")
    origin = request.headers.get("Origin")
    return origin is None or urlsplit(origin).netloc == request.host
