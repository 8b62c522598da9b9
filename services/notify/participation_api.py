"""Participation over HTTP (docs/participation.md): an event's places, saying "I'll come", and
the private link's sign-up. A route argument named `key` is a secret: logs leave it out."""
from __future__ import annotations

from datetime import timedelta

from flask import Response, url_for
from icalendar import Calendar, Event
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from services.notify import check_in as door
from services.notify import host_messages
from services.notify import participation as use
from services.notify import participation_schemas as schemas
from services.notify.link_pages import links
from services.notify.models import EventPlaces, HostMessage, KnownEvent, Participation
from services.notify.schemas import Accepted
from shared.db import utcnow
from shared.errors import Forbidden, NotFound
from shared.http.auth import current_principal
from shared.http.contract import LOCATION, NO_STORE
from shared.http.dump import json_response
from shared.http.pagination import keyset_page, lists, page_body
from shared.http.ratelimit import limiter, participate_limit
from shared.http.routes import Blueprint, MethodView, kernel, requires

places_blp = Blueprint("participation", __name__, url_prefix="/events",
                       description="An event's places, and saying \"I'll come\".")
signup_blp = Blueprint("participations", __name__, url_prefix="/participations",
                       description="A sign-up, opened by its private link's key (the only thing that opens it).")
GONE = "No sign-up has this key: it was erased, or the link was cut or changed."


def _is_host(event: KnownEvent) -> bool:
    principal = current_principal()
    return principal is not None and (principal.is_coordinator or any(
        principal.owns(host) for host in (event.organisation_id, *(event.co_hosts or ()))))


def _places(session, event: KnownEvent, host: bool) -> dict:
    places = session.get(EventPlaces, event.id) or EventPlaces(event_id=event.id, coming=0, waiting=0, anonymous=0,
                                                                cancelled=0, checked_in=0)
    left = None if places.capacity is None else max(places.capacity - places.coming, 0)
    out = {"event_id": event.id, "open": event.ends_at > utcnow(), "capacity": places.capacity,
           "coming": places.coming, "waiting": places.waiting, "places_left": left}
    if host:
        names = session.execute(select(Participation.name, Participation.party_size, Participation.status).where(
            Participation.event_id == event.id, Participation.show_name.is_(True), Participation.name.is_not(None),
            Participation.status.in_(("coming", "waiting"))).order_by(Participation.seq)).all()
        out |= {"cancelled": places.cancelled, "checked_in": places.checked_in, "anonymous": places.anonymous,
                "anonymous_limit": places.anonymous_limit, "names": [row._asdict() for row in names]}
    return out


@places_blp.route("/<uuid:event_id>/participation")
class Places(MethodView):
    @places_blp.response(200, schemas.PlacesOut)
    def get(self, event_id):
        """How many will come (people) and the places left; the hosts and coordinators also see
        the cancellations, their settings and the names participants chose to show them."""
        with kernel().db.transaction() as session:
            event = use.public_event(session, str(event_id))
            return _places(session, event, _is_host(event))

    @requires("organisation", "coordinator")
    @places_blp.arguments(schemas.PlacesPatch)
    @places_blp.response(200, schemas.PlacesOut)
    def patch(self, fields, event_id):
        """The event's places and its ceiling on sign-ups without an address (its organisation or
        a coordinator). More places promote from the waiting list; fewer take nobody's place."""
        with kernel().db.transaction(hot=True) as session:
            event = _hosted(session, str(event_id), "set its places")
            use.set_places(session, kernel().outbox, event.id, fields)
            return _places(session, event, True)


@places_blp.route("/<uuid:event_id>/messages")
class HostMessages(MethodView):
    @requires("organisation", "coordinator")
    @lists(places_blp, schemas.HostMessagePage)
    def get(self, args, event_id):
        """What the event's hosts wrote to its participants, newest first (the hosts and coordinators)."""
        with kernel().db.transaction() as session:
            _hosted(session, str(event_id), "read its messages")
            stmt = select(HostMessage).where(HostMessage.event_id == str(event_id))
            return page_body(*keyset_page(session, stmt, [HostMessage.created_at, HostMessage.id], args,
                                          descending=True))

    @requires("organisation", "coordinator")
    @places_blp.arguments(schemas.HostMessageIn)
    @places_blp.response(201, schemas.HostMessageOut, headers=LOCATION)
    def post(self, body, event_id):
        """Write to the event's participants, in one or more languages: mailed to those with a
        confirmed address, shown on every sign-up's page. At most ten a day per event (429)."""
        with kernel().db.transaction(hot=True) as session:
            event = _hosted(session, str(event_id), "write to its participants")
            message = host_messages.send(session, event, current_principal(), body["text"])
        return message, {"Location": url_for("participation.host_message", event_id=event_id,
                                             message_id=message.id)}


@places_blp.route("/<uuid:event_id>/messages/<uuid:message_id>", methods=["GET"])
@requires("organisation", "coordinator")
@places_blp.response(200, schemas.HostMessageOut)
def host_message(event_id, message_id):
    """One of the hosts' messages."""
    with kernel().db.transaction() as session:
        _hosted(session, str(event_id), "read its messages")
        message = session.get(HostMessage, str(message_id))
        if message is None or message.event_id != str(event_id):
            raise NotFound("The event has no message of this id.")
        return message


def _hosted(session, event_id: str, to_do: str) -> KnownEvent:
    """The event, if the caller hosts it (its organisation) or coordinates; 403 otherwise."""
    event = use.public_event(session, event_id)
    if not _is_host(event):
        raise Forbidden(f"Only the event's organisation and coordinators {to_do}.")
    return event


@places_blp.route("/<uuid:event_id>/check-ins", methods=["POST"])
@requires("organisation", "coordinator")
@places_blp.arguments(schemas.DoorIn)
@places_blp.response(200, schemas.DoorOut)
def check_in(body, event_id):
    """The door's actions, sent as they happen or in a batch once back online: one more or one
    fewer person, or a participant by their QR code (the link's key) or short code. Each is
    counted once, by its id; a participant once, however many phones check them in."""
    with kernel().db.transaction(hot=True) as session:
        event = _hosted(session, str(event_id), "count at its door")
        made = links(session)
        return door.record(session, kernel().outbox, event, body["actions"], made.participation_of)


@places_blp.route("/<uuid:event_id>/participants", methods=["POST"])
@limiter.limit(participate_limit)
@places_blp.arguments(schemas.ParticipantIn)
@places_blp.response(201, schemas.ParticipationCreated, headers={**LOCATION, **NO_STORE})
@places_blp.alt_response(202, schema=Accepted, description="With an e-mail address: the link comes by e-mail.")
def sign_up(fields, event_id):
    """Say "I'll come" (with how many): a place if one is free, else the waiting list. Without an
    e-mail address, the answer holds the private link's key, shown this once; with one, the
    answer is the same whether the address signed up before or not, and the link comes by mail."""
    try:
        with kernel().db.transaction(hot=True) as session:
            # The reads first (the writer's turn begins at the first write and lasts to the commit).
            event = use.event_to_sign_up(session, str(event_id))
            made = links(session)
            messages = host_messages.for_participant(session, event.id, fields["language"]) \
                if event.has_messages else []
            participation = use.sign_up(session, kernel().config, kernel().outbox, event, fields)
            position = use.position(session, participation)  # the rest of the answer is made after the commit
        if participation.email is None:
            key = made.participation_key(participation.id)
            out = _signup(None, participation, event, messages, position) | {
                "key": key, "url": made.participation_url(participation.id)}
            return out, {"Location": url_for("participations.Signup", key=key), "Cache-Control": "no-store"}
    except IntegrityError:  # the same address twice at the same moment: one of them counts
        pass
    return json_response(Accepted().dump({"status": "pending", "detail": (
        "Check your inbox: confirm your address, and keep the e-mail: its link opens your sign-up.")}), 202)


def _signup(session, participation: Participation, event=None, messages: list | None = None,
            position: int | None = None) -> dict:
    """The sign-up as the API shows it (`event`, `messages` and `position`: already read, else
    read now with `session`)."""
    return {column: getattr(participation, column) for column in (
        "id", "event_id", "status", "party_size", "name", "show_name", "language", "created_at", "cancelled_at")} | {
        "with_email": participation.email is not None,
        "position": use.position(session, participation) if session is not None else position,
        "code": participation.code, "checked_in": participation.checked_in_at is not None,
        "messages": host_messages.for_participant(session, participation.event_id, participation.language)
        if messages is None else messages,
        "event": session.get(KnownEvent, participation.event_id) if event is None else event}


def _opened(session, key: str) -> Participation:
    participation_id = links(session).participation_of(key)
    found = session.execute(select(Participation).where(Participation.id == participation_id)).scalar() \
        if participation_id else None
    if found is None:
        raise NotFound(GONE)
    return found


@signup_blp.route("/<key>")
class Signup(MethodView):
    @signup_blp.response(200, schemas.ParticipationOut, headers=NO_STORE)
    def get(self, key):
        """The sign-up: coming, waiting (and where) or cancelled, and its event."""
        with kernel().db.transaction() as session:
            return _signup(session, _opened(session, key)), {"Cache-Control": "no-store"}

    @signup_blp.response(204)
    def delete(self, key):
        """Erase everything about the participant: the sign-up and, if an address was given, every
        sign-up and subscription of it and its mail. The counts keep only that someone cancelled."""
        with kernel().db.transaction(hot=True) as session:
            use.erase(session, kernel().outbox, _opened(session, key))
        return ""


@signup_blp.route("/<key>/cancellation", methods=["POST"])
@signup_blp.response(200, schemas.ParticipationOut, headers=NO_STORE)
def cancel(key):
    """Cancel: the places go to the first on the waiting list whose party fits."""
    with kernel().db.transaction(hot=True) as session:
        participation = _opened(session, key)
        use.cancel(session, kernel().outbox, participation)
        return _signup(session, participation), {"Cache-Control": "no-store"}


@signup_blp.route("/<key>/event.ics")
@signup_blp.response(200, content_type="text/calendar", description="The event, for one's own calendar.")
def calendar_entry(key):
    """The event as one calendar entry (in UTC; the address is not in it: see the event's page)."""
    with kernel().db.transaction() as session:
        participation = _opened(session, key)
        event = session.get(KnownEvent, participation.event_id)
        url = links(session).participation_url(participation.id)
    entry = Event()
    entry.add("uid", f"{participation.id}@dayofaction")
    entry.add("dtstamp", utcnow())
    entry.add("dtstart", event.starts_at)
    entry.add("dtend", max(event.ends_at, event.starts_at + timedelta(minutes=1)))
    entry.add("summary", event.title.get(participation.language) or next(iter(event.title.values()), ""))
    entry.add("location", event.city)
    entry.add("url", url)
    calendar = Calendar()
    calendar.add("prodid", "-//dayofaction//participation//EN")
    calendar.add("version", "2.0")
    calendar.add_component(entry)
    return Response(calendar.to_ical(), mimetype="text/calendar", headers={"Cache-Control": "no-store"})
