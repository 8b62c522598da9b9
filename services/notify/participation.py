"""Participation (docs/participation.md): saying "I'll come" to an approved public event, the
event's places and waiting list, cancelling, and erasing. Each use case takes a session and
commits nothing.

The counts are changed by conditional UPDATEs that test and take in one statement, so however
many sign-ups arrive at once no more places are taken than there are: on PostgreSQL the row's
lock makes the second wait and test again; on SQLite the first write of a transaction takes
the database's write lock. Every use case therefore writes before it reads what it decides on.
"""
from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import Integer, and_, bindparam, case, func, or_, select, union_all, update
from sqlalchemy.orm import Session

from services.notify import subscriptions as subs
from services.notify.fanout import add_notice, event_context, one, to_recipients
from services.notify.models import (
    EventPlaces,
    HostMessage,
    KnownCampaign,
    KnownEvent,
    Participation,
    Subscription,
    country_holds,
)
from shared.bus.outbox import Outbox
from shared.config import Config
from shared.country_holds import held_countries
from shared.db import forget_after_commit, insert_for, utcnow
from shared.errors import Conflict, DomainError, NotFound
from shared.ids import new_id, refuse_unknown

PLACES = EventPlaces.__table__
PARTICIPATIONS = Participation.__table__
EVENTS = KnownEvent.__table__
MESSAGES = HostMessage.__table__
# A sign-up's short code, said or typed at the door instead of showing the link's QR code:
# no 0/O or 1/I/L to confuse; 31^8 codes, so guessing one of an event's is hopeless.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))


class AnonymousLimit(DomainError, status=409, type_="anonymous-limit-reached"):
    """The host's ceiling on people signed up without an e-mail address is reached."""


def public_event(session: Session, event_id: str) -> KnownEvent:
    """The event, if the public may see it: approved, public, its country not held."""
    held = held_countries(country_holds).where(country_holds.c.country == KnownEvent.country).exists()
    found = session.execute(select(KnownEvent, held).where(KnownEvent.id == event_id)).first()  # one query
    return _public(found, event_id)


def _public(found, event_id: str):
    if found is None:
        refuse_unknown(event_id, NotFound("No public event has this id."), "this event")
    event, is_held = found
    if event.status != "approved" or event.visibility != "public" or is_held:
        raise NotFound("No public event has this id.")
    return event


def open_event(session: Session, event_id: str) -> KnownEvent:
    """The event, if one may sign up for it: public, and not ended."""
    return _not_ended(public_event(session, event_id))


def _not_ended(event):
    if event.ends_at <= utcnow():
        raise Conflict("This event has ended: nobody can sign up any more.")
    return event


# The event's row, whether its country is held and whether its hosts wrote to its participants,
# in one query built once: a sign-up reads the event's columns (its outbox message and its
# answer's brief), never the ORM object, and reads the hosts' messages only if there are any.
_EVENT_ROW = select(
    EVENTS, held_countries(country_holds).where(country_holds.c.country == EVENTS.c.country).exists().label("held"),
    select(MESSAGES.c.id).where(MESSAGES.c.event_id == EVENTS.c.id).exists().label("has_messages"),
).where(EVENTS.c.id == bindparam("event_id"))


def event_to_sign_up(session: Session, event_id: str):
    """As `open_event` (the same answers when one may not sign up), the event as a row of
    known_events' columns (and `has_messages`): what a sign-up reads, before any write."""
    found = session.connection().execute(_EVENT_ROW, {"event_id": event_id}).first()
    return _not_ended(_public(None if found is None else (found, found.held), event_id))


def ensure_places(session: Session, event_id: str) -> None:
    """The event's counters exist (made by the first sign-up or setting; a write, so on
    SQLite the transaction holds the write lock from here on)."""
    session.execute(insert_for(session, PLACES).values(event_id=event_id, coming=0, waiting=0, anonymous=0, cancelled=0,
                                          checked_in=0, updated_at=utcnow()).on_conflict_do_nothing(index_elements=["event_id"]))


def add_counts(session: Session, event_id: str, condition=None, **changes) -> bool:
    """Add to the event's counters if `condition` holds now; whether they changed."""
    stmt = update(PLACES).where(PLACES.c.event_id == event_id)
    if condition is not None:
        stmt = stmt.where(condition)
    values = {name: PLACES.c[name] + by for name, by in changes.items()}
    return session.execute(stmt.values(**values, updated_at=utcnow())).rowcount == 1


def _fits(size: int):
    return or_(PLACES.c.capacity.is_(None), PLACES.c.coming + size <= PLACES.c.capacity)


COUNTS = (PLACES.c.capacity, PLACES.c.coming, PLACES.c.waiting, PLACES.c.cancelled, PLACES.c.checked_in)


def _take_statement(anonymous: bool):
    """The conditional UPDATE behind `_take`, built once per kind (its values are bound)."""
    size = bindparam("size", type_=Integer)
    fits = and_(PLACES.c.waiting == 0, _fits(size))
    changes = {"anonymous": PLACES.c.anonymous + size} if anonymous else {}
    within = (or_(PLACES.c.anonymous_limit.is_(None), PLACES.c.anonymous + size <= PLACES.c.anonymous_limit),) \
        if anonymous else ()
    # SET reads the row as it was: all of the party comes if it fits and nobody waits, else all of it waits.
    return update(PLACES).where(PLACES.c.event_id == bindparam("places_of"), *within).values(
        coming=PLACES.c.coming + case((fits, size), else_=0), waiting=PLACES.c.waiting + case((fits, 0), else_=size),
        **changes, updated_at=bindparam("now")).returning(*COUNTS)


_TAKE = {anonymous: _take_statement(anonymous) for anonymous in (False, True)}


def _take(session: Session, event_id: str, size: int, anonymous: bool):
    """Places for `size` people if all are free and nobody waits, else a place on the waiting
    list — in one conditional UPDATE (within the hosts' ceiling on sign-ups without an
    address). ("coming" | "waiting", the counts after), or None: no counters yet, or the
    ceiling is reached."""
    counts = session.connection().execute(_TAKE[anonymous], {"places_of": event_id, "size": size, "now": utcnow()}).first()
    if counts is None:
        return None
    # Nobody waits after it exactly when it took places (a party on the waiting list is at least one).
    return ("coming" if counts.waiting == 0 else "waiting"), counts


def sign_up(session: Session, config: Config, outbox: Outbox, event, fields: dict) -> Participation:
    """A sign-up for `event` (from `event_to_sign_up`) without an address: its places if all
    are free and nobody waits before it, else the waiting list. With an address: unconfirmed,
    taking nothing and counted nowhere until the link of the e-mail it gets is followed
    (`confirmed`), so neither the answer nor the counts tell anyone whether that address had
    signed up. (Reads come first: the write lock is held from the first UPDATE to the commit
    only.)"""
    email = (fields.get("email") or "").strip().lower() or None
    if email is not None:
        return _with_address(session, config, event, email, fields)
    size = fields["party_size"]
    taken = _take(session, event.id, size, anonymous=True)
    if taken is None and session.get(EventPlaces, event.id) is None:  # the event's first sign-up
        ensure_places(session, event.id)
        taken = _take(session, event.id, size, anonymous=True)
    if taken is None:
        raise AnonymousLimit("This event takes no more sign-ups without an e-mail address: give one, or ask "
                             "the hosts.")
    status, counts = taken
    # Written as a plain INSERT (no unit of work to flush); the answer is made from the object.
    participation = _new(event, fields, status, None)
    participation.id, participation.created_at = new_id(), utcnow()
    participation.seq = session.connection().execute(PARTICIPATIONS.insert(), {
        column: getattr(participation, column) for column in _INSERTED}).inserted_primary_key[0]
    announce(session, outbox, event, counts)
    return participation


_INSERTED = ("id", "event_id", "campaign_id", "status", "party_size", "name", "show_name", "email", "language", "code",
             "created_at")


def _new(event: KnownEvent, fields: dict, status: str, email: str | None) -> Participation:
    return Participation(
        event_id=event.id, campaign_id=event.campaign_id, status=status, party_size=fields["party_size"],
        name=(fields.get("name") or "").strip() or None, show_name=fields.get("show_name", False), email=email,
        language=fields["language"], code=new_code())


def _with_address(session: Session, config: Config, event: KnownEvent, email: str, fields: dict) -> Participation:
    """The address's sign-up for the event (the first, unchanged, if there is one) and the
    e-mail whose link confirms it — sent again while unconfirmed, within the mail's limits."""
    participation = session.execute(select(Participation).where(
        Participation.event_id == event.id, Participation.email == email,
        Participation.status != "cancelled")).scalars().first()
    if participation is None:
        participation = _new(event, fields, "unconfirmed", email)
        session.add(participation)
        session.flush()
    if participation.status == "unconfirmed":
        subs.subscribe(session, config, {
            "email": email, "scope": "event", "event_id": event.id, "language": participation.language,
            "timezone": fields.get("timezone"), "wants": ["changes", "reminders"]}, again=True)
        participation.subscription_id = _subscription_of(session, email, event.id)
    return participation


def confirmed(session: Session, outbox: Outbox, subscription_id: str) -> None:
    """The address behind an unconfirmed sign-up followed its e-mail's link: it takes its
    places now (or waits), as a sign-up made at this moment."""
    waiting = session.execute(select(Participation).where(
        Participation.subscription_id == subscription_id, Participation.status == "unconfirmed")).scalars().all()
    for participation in waiting:
        event = session.get(KnownEvent, participation.event_id)
        ensure_places(session, event.id)
        status, counts = _take(session, event.id, participation.party_size, anonymous=False)
        if _claim(session, participation, "unconfirmed", status):
            announce(session, outbox, event, counts)
        else:  # confirmed twice at once: the other confirmation took the places
            add_counts(session, event.id, **{status: -participation.party_size})


def _claim(session: Session, participation: Participation, was: str, status: str, **values) -> bool:
    """Move the sign-up from `was` to `status` if nobody moved it meanwhile (two cancellations,
    two promotions at once): whether it was this call that moved it."""
    moved = session.execute(update(Participation).where(Participation.id == participation.id,
                                                        Participation.status == was)
                            .values(status=status, **values).execution_options(synchronize_session=False))
    if moved.rowcount != 1:
        session.refresh(participation)
        return False
    participation.status = status
    for name, value in values.items():
        setattr(participation, name, value)
    return True


def _subscription_of(session: Session, email: str, event_id: str) -> str | None:
    return session.execute(select(Subscription.id).where(
        Subscription.email == email, Subscription.scope == "event", Subscription.scope_id == event_id)).scalar()


def position(session: Session, participation: Participation) -> int | None:
    """Its place on the waiting list (1: the next), or None when not waiting."""
    if participation.status != "waiting":
        return None
    return 1 + session.connection().execute(_AHEAD, {"event_id": participation.event_id,
                                                     "seq": participation.seq}).scalar_one()


_AHEAD = select(func.count()).select_from(PARTICIPATIONS).where(
    PARTICIPATIONS.c.event_id == bindparam("event_id"), PARTICIPATIONS.c.status == "waiting",
    PARTICIPATIONS.c.seq < bindparam("seq"))


def cancel(session: Session, outbox: Outbox, participation: Participation) -> None:
    """Its places go back, to the first on the waiting list whose party fits. Cancelling twice
    at once frees them once."""
    was, size = participation.status, participation.party_size
    if was == "cancelled" or not _claim(session, participation, was, "cancelled", cancelled_at=utcnow()):
        return
    if participation.subscription_id is not None:  # no more reminders or news of the event
        subs.unsubscribe(session, participation.subscription_id)
        participation.subscription_id = None
    if was == "unconfirmed":  # it had taken nothing
        return
    add_counts(session, participation.event_id, cancelled=size,
               **{was: -size}, **({} if participation.email else {"anonymous": -size}))
    promote(session, participation.event_id)
    announce(session, outbox, session.get(KnownEvent, participation.event_id))


def promote(session: Session, event_id: str) -> list[Participation]:
    """Whoever waits and now fits, first come first (after a cancellation or more places)."""
    promoted = []
    waiting = session.execute(select(Participation).where(
        Participation.event_id == event_id, Participation.status == "waiting").order_by(Participation.seq)).scalars()
    for candidate in waiting.all():
        size = candidate.party_size
        if add_counts(session, event_id, _fits(size), coming=size, waiting=-size):
            if _claim(session, candidate, "waiting", "coming"):
                promoted.append(candidate)
            else:  # promoted (or cancelled) by another transaction a moment ago: give the places back
                add_counts(session, event_id, coming=-size, waiting=size)
    _tell_promoted(session, event_id, promoted)
    return promoted


def _tell_promoted(session: Session, event_id: str, promoted: list[Participation]) -> None:
    """By e-mail, those with a confirmed address (the others see it on their link's page)."""
    told = [f"subscription:{p.subscription_id}" for p in promoted if p.subscription_id is not None]
    if not told:
        return
    notice = f"place_freed:{event_id}:{utcnow().timestamp()}"
    add_notice(session, notice, "place_freed", {"event": event_context(session.get(KnownEvent, event_id))})
    selects = [one(recipient) for recipient in told]
    to_recipients(session, notice, selects[0] if len(selects) == 1 else union_all(*selects))


def kept_long_enough(session: Session, config: Config, now) -> list[str]:
    """The events whose sign-ups have been kept long enough: ended longer ago than their
    campaign's `participation_keep_days`, else PARTICIPATION_KEEP_DAYS."""
    signed_up = select(Participation.id).where(Participation.event_id == KnownEvent.id).exists()
    ended = session.execute(select(KnownEvent.id, KnownEvent.ends_at, KnownCampaign.participation_keep_days)
                            .outerjoin(KnownCampaign, KnownCampaign.id == KnownEvent.campaign_id)
                            .where(KnownEvent.ends_at <= now, signed_up))
    default = config.PARTICIPATION_KEEP_DAYS
    return [event_id for event_id, ends_at, days in ended
            if ends_at <= now - timedelta(days=default if days is None else days)]


def shred(session: Session, config: Config, now) -> int:
    """Sign-ups of events ended long enough ago (`kept_long_enough`) go, with what their
    addresses were told of them (the counts stay), and sign-ups whose address was not confirmed
    in time (they had taken nothing)."""
    unconfirmed = (Participation.status == "unconfirmed") & (
        Participation.created_at <= now - timedelta(hours=config.NOTIFY_CONFIRM_HOURS))
    gone = list(session.execute(select(Participation).where(
        Participation.event_id.in_(kept_long_enough(session, config, now)) | unconfirmed)).scalars())
    subscription_ids = [p.subscription_id for p in gone if p.subscription_id is not None]
    for subscription_id in subscription_ids:
        subs.unsubscribe(session, subscription_id)
    for participation in gone:
        session.delete(participation)
    if gone:
        forget_after_commit(session, "participations", rewrite=("participations",))
    return len(gone)


def set_places(session: Session, outbox: Outbox, event_id: str, fields: dict) -> EventPlaces:
    """The host's settings; more places promote from the waiting list, fewer take nobody's."""
    ensure_places(session, event_id)
    session.execute(update(PLACES).where(PLACES.c.event_id == event_id).values(**fields, updated_at=utcnow()))
    promote(session, event_id)
    announce(session, outbox, session.get(KnownEvent, event_id))
    return session.get(EventPlaces, event_id, populate_existing=True)


def erase(session: Session, outbox: Outbox, participation: Participation) -> None:
    """Everything about the participant: this sign-up, and with an address every sign-up and
    subscription of that address (and its mail); the counts keep only that someone cancelled."""
    email = participation.email
    others = [] if email is None else list(session.execute(select(Participation).where(
        Participation.email == email, Participation.id != participation.id)).scalars())
    for gone in (participation, *others):
        cancel(session, outbox, gone)
    if email is not None:
        subs.erase_address(session, email)
    for gone in (participation, *others):
        session.delete(gone)
    forget_after_commit(session, "participations", rewrite=("participations",))


def announce(session: Session, outbox: Outbox, event: KnownEvent | None, counts=None) -> None:
    """The counts on the bus (never who): event.participation_changed. `counts`: as an UPDATE
    returned them (capacity, coming, waiting, cancelled), else read."""
    if event is None:
        return
    if counts is None:
        counts = session.execute(select(*COUNTS).where(PLACES.c.event_id == event.id)).first()
    outbox.add(session, "event.participation_changed", {
        "event_id": event.id, "campaign_id": event.campaign_id, "organisation_id": event.organisation_id,
        **counts._asdict()})
