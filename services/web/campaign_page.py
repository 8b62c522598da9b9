"""A campaign's public page from two answers — the events service's overview (campaign,
signatories, every public event) and the media service's (reports, materials, turnout) —
whatever the number of events: the filters, the counts per country, the follow-the-sun
timeline and the map's points are worked out here, not asked for one by one."""
from __future__ import annotations

from collections import Counter
from datetime import date

from services.web.client import Api, ApiError
from services.web.formats import country_name, language_name

FILTERS = ("country", "city", "activity_type", "language")
FILTER_LENGTH = 100  # no country, city, activity or language is longer
LISTED = 500  # events listed at once; the rest are a filter away (the map shows them all)
CITIES_PER_HOUR = 12  # the timeline names this many places an hour, then says how many more


def sources(api: Api, campaign_id: str, language: str, known: tuple | None) -> tuple:
    """((events' overview, media's overview), their ETags): one conditional request to each
    service; what a service says has not changed (304) is the kept copy."""
    (kept_overview, kept_media), (overview_etag, media_etag) = known or ((None, None), (None, None))
    overview, overview_etag = api.get_if_changed(f"/api/events/campaigns/{campaign_id}/overview",
                                                 overview_etag if kept_overview is not None else None,
                                                 params={"lang": language})
    try:
        media, media_etag = api.get_if_changed(f"/api/media/campaigns/{campaign_id}/overview",
                                               media_etag if kept_media is not None else None,
                                               params={"lang": language})  # the reports' language
    except ApiError as exc:
        if exc.status in (404, 422) or kept_media is None:  # media learns of a campaign from the bus, a
            media, media_etag = {}, None                      # moment after it opens: until then, nothing
        else:  # media down or busy: what it said last, until it answers again
            media = None
    return (kept_overview if overview is None else overview, kept_media if media is None else media), \
        (overview_etag, media_etag)


def filters_of(args) -> tuple:
    """The page's filters as they shape it: country and language codes in one case, a city
    bounded and folded; the rest of the query is not the page's."""
    found = {k: args.get(k, "").strip()[:FILTER_LENGTH] for k in FILTERS}
    found.update(country=found["country"].upper(), language=found["language"].lower(), city=found["city"].casefold())
    return tuple((k, v) for k, v in found.items() if v)


def context(overview: dict, media: dict, language: str, args) -> dict:
    events = overview["events"]
    filters = dict(filters_of(args))
    matching = [e for e in events if _matches(e, filters)]
    countries = Counter(e["country"] for e in events)
    spoken = Counter(code for e in events for code in e["languages"])
    return {"campaign": overview["campaign"], "signatories": overview["signatories"],
            "countdown": countdown(overview["campaign"]["day_of_action"]),
            "events": matching[:LISTED], "matching": len(matching), "total": len(events),
            "countries": sorted(((code, country_name(code, language), n) for code, n in countries.items()),
                                key=lambda item: item[1].casefold()),
            "spoken": sorted(((code, language_name(code, language), n) for code, n in spoken.items()),
                             key=lambda item: item[1].casefold()),
            "filters": filters, "city_typed": args.get("city", "").strip()[:FILTER_LENGTH],
            "timeline": timeline(events, overview["campaign"]["day_of_action"]),
            "points": map_points(events), "counts": dict(countries),
            "reports": media.get("reports", []), "materials": media.get("materials", [])}


def _matches(event: dict, filters: dict) -> bool:
    """`filters` as filters_of gives them: country upper case, language lower, city folded."""
    return (filters.get("country", event["country"]) == event["country"]
            and filters.get("city", "") in event["city"].casefold()
            and filters.get("activity_type", event["activity_type"]) == event["activity_type"]
            and ("language" not in filters or filters["language"] in event["languages"]))


def timeline(events: list[dict], day_of_action: str) -> list[dict]:
    """Follow the sun through the day of action: the hours (UTC) in which the events held on
    that day (in their own zone) start, in order, each with its count and the first places by
    their local time — one line an hour, however many events. Cancelled ones are left out."""
    hours: dict[str, dict] = {}
    for e in events:  # in order of start (UTC), as the overview gives them
        if e["status"] != "approved" or e["start"][:10] != day_of_action:
            continue
        hour = hours.setdefault(e["starts_at"][:13], {"utc": e["starts_at"][11:13] + ":00",
                                                       "day": e["starts_at"][:10], "count": 0, "places": []})
        hour["count"] += 1
        if len(hour["places"]) < CITIES_PER_HOUR:
            hour["places"].append(e)
    for hour in hours.values():
        hour["more"] = hour["count"] - len(hour["places"])
    return list(hours.values())


def map_points(events: list[dict]) -> list[dict]:
    """The events with coordinates, as the map draws them: exact where their owners made the
    place public, else their coarse point (`approximate`, drawn as a larger circle)."""
    return [{"longitude": e["longitude"], "latitude": e["latitude"], "title": e["title"], "city": e["city"],
             "country": e["country"], "url": f"/events/{e['id']}", "approximate": e.get("approximate") is True}
            for e in events if e.get("longitude") is not None]


def countdown(day_of_action: str) -> dict:
    return {"days": (date.fromisoformat(day_of_action) - date.today()).days, "date": day_of_action}
