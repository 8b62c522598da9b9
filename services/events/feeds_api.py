"""Public events as calendar feeds (a campaign's, a country's, an organisation's, one event's)
and as a map (GeoJSON), each rendered once per change."""
from __future__ import annotations

from datetime import datetime
from typing import Callable

from flask import Response, request
from marshmallow import Schema, fields
from sqlalchemy import select

from services.events import campaigns as use
from services.events import finding
from services.events import local_events as events
from services.events.api_common import (
    public_campaign_revision,
    public_outputs_revision,
    wanted_languages,
)
from services.events.models import LocalEvent, public_revisions
from services.events.schemas import SLUG, OverviewEvent, OverviewQuery
from shared.db import utcnow
from shared.fields import CountryCode, LanguageCode, UUIDString
from shared.http.dump import FastSchema, json_response
from shared.http.rendered import documented_rendering, rendered_response
from shared.http.routes import Blueprint, kernel
from shared.revisions import campaign_revision

# What only the map answers: GeoJSON (RFC 7946).


class GeoQuery(Schema):
    campaign_id = UUIDString()
    country = CountryCode()
    organisation_id = UUIDString()
    activity_type = fields.String(validate=SLUG)
    lang = LanguageCode()


class PointGeometry(FastSchema):
    type = fields.String(metadata={"example": "Point"})
    coordinates = fields.List(fields.Float(), metadata={"description": "[longitude, latitude]"})


class FeatureProperties(OverviewEvent):
    """An event on the map: as the campaign's overview gives it, but for what GeoJSON says in
    its own members (`id`, and the point in `geometry`)."""

    class Meta:
        exclude = ("id", "longitude", "latitude")


class Feature(FastSchema):
    type = fields.String(metadata={"example": "Feature"})
    id = UUIDString()
    geometry = fields.Nested(PointGeometry)
    properties = fields.Nested(FeatureProperties)


class FeatureCollection(FastSchema):
    """GeoJSON (RFC 7946)."""

    type = fields.String(metadata={"example": "FeatureCollection"})
    features = fields.List(fields.Nested(Feature))


feeds_blp = Blueprint("feeds", __name__, description="Public events as calendar feeds and a map.")


@feeds_blp.route("/events/map.geojson")
@feeds_blp.arguments(GeoQuery(), location="query")
@documented_rendering(feeds_blp, FeatureCollection, "application/geo+json")
def events_geojson(args):
    """Public events with a public place, as a GeoJSON FeatureCollection (for maps). Rendered
    once per change: a strong ETag, and 304 to If-None-Match."""
    filters, wanted = {k: v for k, v in args.items() if k != "lang"}, wanted_languages(args)
    stmt = events.list_statement(filters, None).order_by(LocalEvent.starts_at, LocalEvent.id)
    if filters.get("campaign_id"):
        with kernel().db.engine.connect() as connection:
            revision = campaign_revision(connection, public_revisions, filters["campaign_id"])
    else:
        revision = public_outputs_revision()

    def render():
        places = finding.PublicPlaces(utcnow())
        with kernel().db.transaction() as session:
            features = list(finding.geojson_features(session, stmt, wanted, places))
        body = FeatureCollection().dump({"type": "FeatureCollection", "features": features})
        return json_response(body).get_data(), places.changes_at

    return rendered_response(("geojson", tuple(sorted(filters.items())), wanted), revision, render,
                             "application/geo+json", vary="Accept-Language")


def _ical_body(stmt, name: str, wanted: tuple[str, ...], base_url: str) -> tuple[bytes, datetime | None]:
    """A whole feed, and when time alone would change it (a place becoming public)."""
    places = finding.PublicPlaces(utcnow())
    with kernel().db.transaction() as session:
        body = b"".join(finding.ical_stream(session, stmt.order_by(LocalEvent.starts_at, LocalEvent.id),
                                            name, wanted, places, base_url))
    return body, places.changes_at


def _ical(key: tuple, revision: int, stmt, name: Callable[[], str], filename: str):
    """A calendar feed rendered once per change (`name()` is read when it is rendered)."""
    wanted, base = wanted_languages(request.args), request.host_url.rstrip("/")
    return rendered_response(("ics", *key, base, wanted), revision, lambda: _ical_body(stmt, name(), wanted, base),
                             "text/calendar", headers={"Content-Disposition": f'inline; filename="{filename}"'},
                             vary="Accept-Language")


def _public_events(**filters):
    return events.list_statement(filters, None)


def _campaign_name(campaign_id: str) -> str:
    with kernel().db.transaction() as session:
        return use.get_campaign(session, campaign_id, None).name


@feeds_blp.route("/campaigns/<uuid:campaign_id>/events.ics")
@feeds_blp.arguments(OverviewQuery(), location="query")
@documented_rendering(feeds_blp, content_type="text/calendar")
def campaign_ical(_args, campaign_id):
    """The campaign's public events as an iCalendar feed (subscribe to it in a calendar app);
    rendered once per change: a strong ETag, and 304 to If-None-Match."""
    campaign_id = str(campaign_id)
    return _ical(("campaign", campaign_id), public_campaign_revision(campaign_id), _public_events(campaign_id=campaign_id),
                 lambda: _campaign_name(campaign_id), "campaign.ics")


@feeds_blp.route("/countries/<country:country>/events.ics")
@feeds_blp.arguments(OverviewQuery(), location="query")
@documented_rendering(feeds_blp, content_type="text/calendar")
def country_ical(_args, country):
    """A country's public events as an iCalendar feed (rendered once per change, as the campaign's)."""
    code = country  # the converter checked it
    return _ical(("country", code), public_outputs_revision(), _public_events(country=code), lambda: f"dayofaction {code}",
                 f"{code}.ics")


@feeds_blp.route("/organisations/<uuid:organisation_id>/events.ics")
@feeds_blp.arguments(OverviewQuery(), location="query")
@documented_rendering(feeds_blp, content_type="text/calendar")
def organisation_ical(_args, organisation_id):
    """An organisation's public events as an iCalendar feed (rendered once per change, as the
    campaign's)."""
    organisation_id = str(organisation_id)
    return _ical(("organisation", organisation_id), public_outputs_revision(), _public_events(organisation_id=organisation_id),
                 lambda: "dayofaction", "organisation.ics")


@feeds_blp.route("/events/<uuid:event_id>.ics")
@feeds_blp.arguments(OverviewQuery(), location="query")
@feeds_blp.response(200, content_type="text/calendar")
def event_ical(_args, event_id):
    """One public event as an iCalendar file (add it to a calendar)."""
    with kernel().db.transaction() as session:
        events.get_event(session, str(event_id), None)
    body, _ = _ical_body(select(LocalEvent).where(LocalEvent.id == str(event_id)), "dayofaction",
                         wanted_languages(request.args), request.host_url.rstrip("/"))
    return Response(body, mimetype="text/calendar", headers={"Content-Disposition": 'inline; filename="event.ics"'})
