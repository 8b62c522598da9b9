"""The baseline for the events service's public reads: a bare Flask app on the `sqlite3` module.

- `GET /api/events/events?campaign_id=&country=&limit=`: the same SQL the service runs for the
  public (approved, or cancelled after approval; public; of a campaign that is not a draft; of
  a country not on hold; key-set order by starts_at, id; LIMIT limit+1), each row turned into
  the same JSON item (same keys in the same order, the address only when public, the text in
  the first language, coordinates coarse until the place is public, as `places.public_point`
  makes them) with the same `next` link, by hand, then `json.dumps`.
- `GET /api/events/campaigns/<id>/statistics`: the same four queries (the campaign, three
  GROUP BYs over the campaign's public tallies, the third joined with the organisations'
  abbreviations) and the same JSON.
- `GET /api/events/campaigns/<id>/events.ics`: `send_file` of `<DOA_VAR_DIR>/<id>.ics`, a
  feed the real app generated before (the same bytes), i.e. the cost of sending that much.

Run it under gunicorn like the real app: `gunicorn ... 'bench.events_baseline_app:create_app()'`
with DOA_VAR_DIR pointing at the folder holding events.db.
"""
from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlencode

from flask import Flask, Response, request, send_file

from bench.baseline_support import bare_flask, decode_cursor, encode_cursor, per_thread_sqlite
from services.events.places import public_point

PREFIX = "/api/events"
COLUMNS = ("id", "campaign_id", "organisation_id", "co_hosts", "title", "description", "languages", "activity_type", "city",
           "country", "venue", "address", "latitude", "longitude", "timezone", "starts_local", "ends_local",
           "starts_at", "ends_at", "online_url", "expected_participants", "visibility", "address_public",
           "address_public_hours", "status", "outside_window", "created_at", "updated_at")
# Written as SQLAlchemy writes the service's statements (`local_events.public_condition`),
# with the same bound parameters.
PUBLIC = ("status IN (?, ?) AND approved_at IS NOT NULL AND visibility = ? "
          "AND (country NOT IN (SELECT country FROM country_holds)) "
          "AND campaign_id IN (SELECT id FROM campaigns WHERE status != ?)")
PUBLIC_PARAMS = ("approved", "cancelled", "public", "draft")
LIST = (f"SELECT {', '.join(COLUMNS)} FROM local_events WHERE campaign_id = ? AND country = ? AND {PUBLIC}"
        " {after} ORDER BY starts_at, id LIMIT ? OFFSET ?")
# The statistics add up the running tallies (`services.events.tallies`), as the service does.
TALLY = ("SELECT {column}, sum(events), sum(expected_participants) FROM event_tallies "
         "WHERE campaign_id = ? AND visibility = ? AND (country NOT IN (SELECT country FROM country_holds)) "
         "GROUP BY {column} HAVING sum(events) > ? ORDER BY sum(events) DESC, {column}")
ORGANISATIONS = ("SELECT organisation_id, sum(events), sum(expected_participants), abbreviation FROM event_tallies "
                 "LEFT OUTER JOIN known_organisations ON known_organisations.id = organisation_id "
                 "WHERE campaign_id = ? AND visibility = ? AND (event_tallies.country NOT IN "
                 "(SELECT country FROM country_holds)) GROUP BY organisation_id, abbreviation "
                 "HAVING sum(events) > ? ORDER BY sum(events) DESC, organisation_id")


def _when(stored: str) -> datetime:
    return datetime.fromisoformat(stored).replace(tzinfo=timezone.utc)


def _pick(texts: dict, languages: list, wanted: list[str]) -> str:
    for code in wanted:
        if code in texts:
            return code
    return languages[0] if languages and languages[0] in texts else next(iter(texts), "")


def _item(row: tuple, wanted: list[str], now: datetime, secret: bytes) -> dict:
    e = dict(zip(COLUMNS, row, strict=True))
    titles, descriptions, languages = json.loads(e["title"]), json.loads(e["description"] or "{}"), \
        json.loads(e["languages"])
    starts_at = _when(e["starts_at"])
    language = _pick(titles, languages, wanted)
    shown = e["address_public"] == "now" or (
        e["address_public"] == "before" and bool(e["address_public_hours"])
        and now >= starts_at - timedelta(hours=e["address_public_hours"]))
    item = {"id": e["id"], "campaign_id": e["campaign_id"], "organisation_id": e["organisation_id"],
            "co_hosts": json.loads(e["co_hosts"]), "language": language, "title": titles.get(language, ""), "description": descriptions.get(language, ""),
            "titles": titles, "descriptions": descriptions, "languages": languages,
            "activity_type": e["activity_type"], "city": e["city"], "country": e["country"], "venue": e["venue"]}
    if shown:
        item["address"] = e["address"]
    # As the app: exact coordinates once the place is public, a coarse point before.
    latitude, longitude, approximate = public_point(SimpleNamespace(**e), shown, secret)
    item.update(latitude=latitude, longitude=longitude, place_approximate=approximate)
    item.update(timezone=e["timezone"], start=e["starts_local"], end=e["ends_local"],
                starts_at=starts_at.isoformat(), ends_at=_when(e["ends_at"]).isoformat(),
                online_url=e["online_url"], expected_participants=e["expected_participants"],
                visibility=e["visibility"], address_public=e["address_public"],
                address_public_hours=e["address_public_hours"], status=e["status"],
                outside_window=bool(e["outside_window"]), created_at=_when(e["created_at"]).isoformat(),
                updated_at=_when(e["updated_at"]).isoformat())
    return item


_SECRET: list[bytes] = []


def place_secret(conn) -> bytes:
    """The events service's secret for coarse points, read once from its database."""
    if not _SECRET:
        _SECRET.append(bytes.fromhex(conn.execute("SELECT secret FROM place_keys").fetchone()[0]))
    return _SECRET[0]


def _json(body, status: int = 200) -> Response:
    return Response(json.dumps(body, ensure_ascii=False, separators=(",", ":")) + "\n", status=status,
                    mimetype="application/json")


def create_app(var_dir: str | None = None) -> Flask:
    folder = Path(var_dir or os.environ.get("DOA_VAR_DIR", "var")).resolve()
    database = str(folder / "events.db")
    connection = per_thread_sqlite(database)
    app = bare_flask("bench.events_baseline")

    @app.get(f"{PREFIX}/events")
    def events():
        try:
            limit = max(1, min(int(request.args.get("limit", 50)), 200))
        except ValueError:
            return _json({"status": 400}, 400)
        wanted = [code.split("-")[0].lower() for code in request.accept_languages.values()]
        params: list = [request.args.get("campaign_id", ""), request.args.get("country", ""), *PUBLIC_PARAMS]
        after = ""
        if request.args.get("cursor"):
            after = "AND (starts_at, id) > (?, ?)"
            params += decode_cursor(request.args["cursor"])
        with connection() as conn:  # one transaction, like the app's session
            rows = conn.execute(LIST.format(after=after), (*params, limit + 1, 0)).fetchall()
        now = datetime.now(timezone.utc)
        items = [_item(row, wanted, now, place_secret(conn)) for row in rows[:limit]]
        next_url = None
        if len(rows) > limit:
            query = [(k, v) for k, v in request.args.items(multi=True) if k != "cursor"]
            query.append(("cursor", encode_cursor(items[-1]["starts_at"], items[-1]["id"])))
            next_url = f"{request.script_root}{request.path}?{urlencode(query)}"
        return _json({"items": items, "next": next_url})

    @app.get(f"{PREFIX}/campaigns/<campaign_id>/statistics")
    def statistics(campaign_id: str):
        with connection() as conn:
            campaign = conn.execute("SELECT id, status FROM campaigns WHERE id = ?", (campaign_id,)).fetchone()
            if campaign is None or campaign[1] == "draft":
                return _json({"status": 404}, 404)
            out = {"campaign_id": campaign_id}
            for name, column in (("countries", "country"), ("activity_types", "activity_type")):
                out[name] = [{"key": key, "events": count, "expected_participants": people}
                             for key, count, people in conn.execute(TALLY.format(column=column),
                                                                            (campaign_id, "public", 0))]
            out["organisations"] = [
                {"key": key, "events": count, "expected_participants": people, "abbreviation": abbreviation}
                for key, count, people, abbreviation in conn.execute(ORGANISATIONS, (campaign_id, "public", 0))]
        out["total"] = {"events": sum(r["events"] for r in out["countries"]),
                        "expected_participants": sum(r["expected_participants"] for r in out["countries"])}
        return _json(out)

    @app.get(f"{PREFIX}/campaigns/<campaign_id>/events.ics")
    def ical(campaign_id: str):
        path = folder / f"{campaign_id}.ics"
        if not path.is_file() or path.parent != folder:
            return _json({"status": 404}, 404)
        return send_file(path, mimetype="text/calendar")

    return app
