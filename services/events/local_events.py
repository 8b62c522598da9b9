"""Local events: submitted by organisations, decided by coordinators. Each use case takes a
session and commits nothing; the caller's transaction holds the change and its message."""
from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache
from operator import attrgetter

from sqlalchemy import String, cast, func, or_, select
from sqlalchemy import update as update_table
from sqlalchemy.orm import Session

from services.events.campaigns import check_participant
from services.events.localtime import LocalTimeError, format_offset, to_utc, zone_in_country
from services.events.models import Campaign, CountryHold, EventChange, LocalEvent
from services.events.places import public_point
from services.events.schemas import LocalEventOut, inconsistencies
from shared.auth import Principal
from shared.bus.outbox import Outbox
from shared.db import utcnow
from shared.errors import Conflict, Forbidden, Invalid, NotFound
from shared.languages import pick_language

MESSAGE_FIELDS = ("id", "campaign_id", "organisation_id", "title", "languages", "activity_type", "city",
                  "country", "timezone", "starts_local", "ends_local", "starts_at", "ends_at", "status",
                  "visibility", "co_hosts")


def event_data(event: LocalEvent) -> dict:
    return {f: getattr(event, f) for f in MESSAGE_FIELDS}


def _invalid(problems: dict[str, str]) -> Invalid:
    return Invalid(f"The event does not fit: {', '.join(problems)}.",
                   errors=[{"field": f, "location": "json", "message": m} for f, m in problems.items()])


def _place_in_time(fields: dict, campaign: Campaign) -> tuple[datetime, datetime]:
    """The UTC instants of the event's local start and end, checked against its zone,
    its country and the campaign's window."""
    zone = fields["timezone"]
    if not zone_in_country(zone, fields["country"]):
        raise _invalid({"timezone": f"{zone} is not a time zone of {fields['country']}."})
    problems: dict[str, str] = {}
    instants = {}
    for name in ("start", "end"):
        try:
            instants[name] = to_utc(fields[name], zone, name, fields.get(f"{name}_offset"))
        except LocalTimeError as exc:
            problems[exc.field] = exc.message
    if problems:
        raise _invalid(problems)
    if instants["end"] <= instants["start"]:
        raise _invalid({"end": "must be after the start."})
    local_day = fields["start"].date()  # "on the day" means the date in the event's own zone
    if not campaign.window_start <= local_day <= campaign.window_end:
        raise _invalid({"start": f"falls on {local_day.isoformat()}, outside the campaign's window "
                                 f"{campaign.window_start.isoformat()} – {campaign.window_end.isoformat()}."})
    return instants["start"], instants["end"]


def check_submitter(session: Session, campaign: Campaign, organisation_id: str) -> None:
    """May this organisation submit events to this campaign now?"""
    check_participant(session, campaign, organisation_id, "events")


def check_event(campaign: Campaign, fields: dict) -> tuple[datetime, datetime]:
    """The rules an event must follow in its campaign; answers its UTC start and end."""
    if problems := inconsistencies(fields):
        raise _invalid(problems)
    if fields["activity_type"] not in campaign.activity_types:
        raise _invalid({"activity_type": f"must be one of the campaign's: {', '.join(campaign.activity_types)}."})
    return _place_in_time(fields, campaign)


def submit(session: Session, outbox: Outbox, campaign: Campaign, organisation_id: str, fields: dict) -> LocalEvent:
    check_submitter(session, campaign, organisation_id)
    starts_at, ends_at = check_event(campaign, fields)
    values = {k: v for k, v in fields.items() if k not in ("start", "end", "start_offset", "end_offset",
                                                            "organisation_id")}
    values["languages"] = fields.get("languages") or list(fields["title"])
    event = LocalEvent(**values, campaign_id=campaign.id, organisation_id=organisation_id,
                       search_text=search_text(fields["title"], fields.get("description"), fields["city"]),
                       starts_local=fields["start"].isoformat(timespec="seconds"),
                       ends_local=fields["end"].isoformat(timespec="seconds"),
                       starts_at=starts_at, ends_at=ends_at, status="submitted")
    session.add(event)
    session.flush()
    outbox.add(session, "event.submitted", event_data(event))
    return event


EDITABLE = ("title", "description", "languages", "activity_type", "city", "country", "venue", "address",
            "latitude", "longitude", "timezone", "online_url", "expected_participants", "visibility",
            "address_public", "address_public_hours")
# An event's whole editable state: what an edit sets, and what a pending change proposes.
STATE = (*EDITABLE, "starts_local", "ends_local", "starts_at", "ends_at")


def state_of(event: LocalEvent) -> dict:
    return {f: getattr(event, f) for f in STATE}


def _as_submitted(state: dict) -> dict:
    """An event's state in the shape it was submitted in, so an edit is checked as a whole."""
    start, end = datetime.fromisoformat(state["starts_local"]), datetime.fromisoformat(state["ends_local"])
    return {**{f: state[f] for f in EDITABLE}, "start": start, "end": end,
            "start_offset": format_offset(start - state["starts_at"].replace(tzinfo=None)),
            "end_offset": format_offset(end - state["ends_at"].replace(tzinfo=None))}


def check_editable(event: LocalEvent, principal: Principal) -> None:
    if not principal.owns(event.organisation_id):
        raise Forbidden("Only the organisation that holds the event changes it.")
    if event.status not in ("submitted", "approved"):
        raise Conflict(f"The event is {event.status}; it can no longer change.", current_status=event.status)


def edited_state(session: Session, event: LocalEvent, changes: dict, base: dict | None = None) -> dict:
    """The event's whole state after `changes` to `base` (its own state, or a pending change's),
    checked by every rule as a submission is; raises Invalid naming the fields."""
    merged = _as_submitted(base or state_of(event))
    for name in ("start", "end"):  # a new time or zone: the old offset says nothing
        if (name in changes or "timezone" in changes) and f"{name}_offset" not in changes:
            merged[f"{name}_offset"] = None
    merged.update(changes)
    starts_at, ends_at = check_event(session.get(Campaign, event.campaign_id), merged)
    return {**{f: merged[f] for f in EDITABLE}, "starts_local": merged["start"].isoformat(timespec="seconds"),
            "ends_local": merged["end"].isoformat(timespec="seconds"), "starts_at": starts_at, "ends_at": ends_at}


def differing(event: LocalEvent, state: dict) -> list[str]:
    return [f for f, v in state.items() if getattr(event, f) != v]


def apply_state(session: Session, outbox: Outbox, event: LocalEvent, state: dict) -> list[str]:
    """Set the event to `state`; answer what changed, announced as event.updated (calendars
    see a new SEQUENCE, the public outputs a new revision, subscribers are told)."""
    changed = differing(event, state)
    if not changed:
        return []
    for name in changed:
        setattr(event, name, state[name])
    event.search_text = search_text(event.title, event.description, event.city)
    event.sequence += 1
    event.updated_at = utcnow()
    outbox.add(session, "event.updated", {**event_data(event), "changed": changed})
    return changed


def may_see_everything(event: LocalEvent, principal: Principal | None) -> bool:
    return principal is not None and (principal.is_coordinator or principal.owns(event.organisation_id))


@lru_cache(maxsize=1)
def public_condition():
    """What the public may see of events, as SQL: approved (or cancelled after approval),
    public, of a campaign that is not a draft, and not in a country on hold."""
    return (LocalEvent.status.in_(("approved", "cancelled")) & LocalEvent.approved_at.is_not(None)
            & (LocalEvent.visibility == "public")
            & LocalEvent.country.not_in(select(CountryHold.country))
            & LocalEvent.campaign_id.in_(select(Campaign.id).where(Campaign.status != "draft")))


def is_public(session: Session, event: LocalEvent) -> bool:
    campaign = session.get(Campaign, event.campaign_id)
    return (event.status in ("approved", "cancelled") and event.approved_at is not None
            and event.visibility == "public" and campaign.status != "draft"
            and session.get(CountryHold, event.country) is None)


def search_text(title: dict, description: dict | None, city: str) -> str:
    return " ".join([*title.values(), *(description or {}).values(), city]).lower()


def address_visible(event: LocalEvent, principal: Principal | None, now: datetime) -> bool:
    if may_see_everything(event, principal):
        return True
    if event.address_public == "now":
        return True
    public_from = place_public_from(event)
    return public_from is not None and now >= public_from


def place_public_from(event: LocalEvent) -> datetime | None:
    """When everyone may see where the event is, if its owner chose some hours before the start."""
    if event.address_public == "before" and event.address_public_hours:
        return event.starts_at - timedelta(hours=event.address_public_hours)
    return None


def get_event(session: Session, event_id: str, principal: Principal | None) -> LocalEvent:
    """What a caller may not see does not exist for it."""
    event = session.get(LocalEvent, event_id)
    if event is None or not (may_see_everything(event, principal) or is_public(session, event)):
        raise NotFound(f"No event has the id {event_id}.")
    return event


def decide(session: Session, outbox: Outbox, event: LocalEvent, approve: bool, reason: str | None,
           seen: datetime | None = None) -> None:
    """Approve or reject a submitted event — the version the coordinator read, when they say
    which (`seen`: its updated_at): one changed since then is refused, not decided unread."""
    session.refresh(event, with_for_update=True)  # held (PostgreSQL) against an edit meanwhile
    if event.status != "submitted":
        raise Conflict(f"The event is already {event.status}.", current_status=event.status)
    if seen is not None and event.updated_at != seen:
        raise Conflict("The event changed since you read it: read it again before deciding.",
                       updated_at=event.updated_at.isoformat())
    if not approve and not reason:
        raise Invalid("Say why the event is rejected.",
                      errors=[{"field": "reason", "location": "json", "message": "Missing data."}])
    event.status = "approved" if approve else "rejected"
    event.approved_at = utcnow() if approve else None
    event.rejection_reason = None if approve else reason
    event.updated_at = utcnow()
    if approve:
        outbox.add(session, "event.approved", event_data(event))
    else:
        outbox.add(session, "event.rejected", {**event_data(event), "reason": reason})


def cancel(session: Session, outbox: Outbox, event: LocalEvent, principal: Principal) -> None:
    if not principal.owns(event.organisation_id):
        raise Forbidden("Only the organisation that holds the event cancels it.")
    if event.status not in ("submitted", "approved"):
        raise Conflict(f"The event is already {event.status}.", current_status=event.status)
    event.status, event.updated_at = "cancelled", utcnow()
    event.sequence += 1
    # A change waiting for review has nothing left to change: calling the event off is immediate.
    session.execute(update_table(EventChange).where(EventChange.event_id == event.id,
                                                    EventChange.status == "pending").values(status="withdrawn"))
    outbox.add(session, "event.cancelled", event_data(event))


def list_statement(args: dict, principal: Principal | None):
    stmt = select(LocalEvent)
    for arg, column in (("campaign_id", LocalEvent.campaign_id), ("country", LocalEvent.country),
                        ("activity_type", LocalEvent.activity_type), ("status", LocalEvent.status)):
        if args.get(arg):
            stmt = stmt.where(column == args[arg])
    if args.get("organisation_id"):  # its own events and those it co-hosts (co_hosts: a JSON list of ids)
        stmt = stmt.where(or_(LocalEvent.organisation_id == args["organisation_id"],
                              cast(LocalEvent.co_hosts, String).like(f'%"{args["organisation_id"]}"%')))
    if args.get("city"):
        stmt = stmt.where(func.lower(LocalEvent.city) == args["city"].lower())
    if args.get("language"):  # languages is a JSON list: match the quoted code in its text
        stmt = stmt.where(cast(LocalEvent.languages, String).like(f'%"{args["language"]}"%'))
    if args.get("starts_from"):
        stmt = stmt.where(LocalEvent.starts_at >= args["starts_from"])
    if args.get("starts_before"):
        stmt = stmt.where(LocalEvent.starts_at < args["starts_before"])
    if args.get("q"):
        pattern = f"%{escape_like(args['q'].lower())}%"
        stmt = stmt.where(LocalEvent.search_text.like(pattern, escape="\\"))
    if principal is None or not principal.is_coordinator:
        public = public_condition()
        if principal is not None:  # an organisation also sees all of its own
            public = public | (LocalEvent.organisation_id == principal.subject_id)
        stmt = stmt.where(public)
    return stmt


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def hold_country(session: Session, outbox: Outbox, country: str, reason: str, principal: Principal) -> CountryHold:
    """Hide the country's events everywhere; other services hear of it (without the reason,
    which may itself endanger people) and hold back what they publish of the country."""
    hold = session.get(CountryHold, country)
    if hold is None:
        hold = CountryHold(country=country, reason=reason, held_by=principal.subject_id)
        session.add(hold)
        outbox.add(session, "country.held", {"country": country})
    else:
        hold.reason = reason
    session.flush()
    return hold


def release_country(session: Session, outbox: Outbox, country: str) -> None:
    hold = session.get(CountryHold, country)
    if hold is None:
        raise NotFound(f"{country} is not on hold.")
    session.delete(hold)
    outbox.add(session, "country.released", {"country": country})


# What the API shows of an event as it is stored: every field of LocalEventOut that is one of
# its columns, but those present() decides per caller (text in one language, a hidden place).
_DECIDED = frozenset({"title", "description", "address", "latitude", "longitude", "rejection_reason"})
_AS_STORED = tuple(name for name in LocalEventOut().dump_fields
                   if name in LocalEvent.__table__.c and name not in _DECIDED)
_as_stored = attrgetter(*_AS_STORED)  # one C call for the twenty values: the list is hot


def present(event: LocalEvent, principal: Principal | None, wanted: list[str], now: datetime) -> dict:
    """The event as this caller may see it: the values LocalEventOut dumps (a field left out
    here is absent from the answer, not empty)."""
    language = pick_language(event.title, event.languages, wanted)
    full = may_see_everything(event, principal)
    shown_address = address_visible(event, principal, now)
    out = dict(zip(_AS_STORED, _as_stored(event), strict=True))
    out.update(language=language, title=event.title.get(language, ""),
               description=(event.description or {}).get(language, ""),
               titles=event.title, descriptions=event.description or {},
               start=event.starts_local, end=event.ends_local)
    if shown_address:
        out["address"] = event.address
    # Exact coordinates would give the address away as well: coarse ones until it is public.
    out["latitude"], out["longitude"], out["place_approximate"] = public_point(event, shown_address)
    if full:
        out["rejection_reason"] = event.rejection_reason
    return out
