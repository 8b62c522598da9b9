"""Messages the notify service consumes: every type in the catalogue (any may go to a
webhook), and for some an e-mail to the people the issue names."""
from __future__ import annotations

import json

from sqlalchemy import literal, select
from sqlalchemy.orm import Session

from services.notify import fanout, reminders, wakeups
from services.notify.fanout import (
    add_notice,
    contact_of,
    coordinators,
    covering,
    event_context,
    subscribers,
    to_recipients,
)
from services.notify.models import (
    CAMPAIGNS,
    COUNTRY_HOLDS,
    EVENTS,
    ORGANISATIONS,
    KnownEvent,
    Participation,
    country_holds,
    metadata,
)
from services.notify.webhooks.queue import queue_deliveries
from shared.bus.catalogue import WEBHOOK_TYPES, dump
from shared.bus.consumer import Message
from shared.bus.handlers import Handlers
from shared.country_holds import held_countries
from shared.revocations import revocations

TIME_CHANGES = {"starts_local", "starts_at", "timezone"}
PUBLIC_CHANGES = {"starts_local", "starts_at", "ends_local", "ends_at", "timezone", "city", "country", "venue",
                  "address", "online_url", "title"}


def envelope(message: Message) -> str:
    """The message as it travelled, for webhooks (their body is the envelope)."""
    return json.dumps({"id": message.id, "type": message.type, "version": message.version,
                       "occurred_at": message.occurred_at.isoformat(), "source": message.source,
                       "correlation_id": message.correlation_id, "data": dump(message.type, message.data)},
                      ensure_ascii=False, separators=(",", ":"))


handles = Handlers(revocations(metadata), COUNTRY_HOLDS)


@handles(*WEBHOOK_TYPES)
def forward(session: Session, message: Message) -> None:
    """Every message type may go to a webhook: forward each (before the copies below change,
    see `visible_to_organisation`), then tell the people who must know."""
    if queue_deliveries(session, message, envelope(message)):
        wakeups.after_commit(session, wakeups.WEBHOOKS)


handles.include(ORGANISATIONS)
handles.include(CAMPAIGNS)


@handles("campaign.rescheduled")
def campaign_rescheduled(session: Session, message: Message) -> None:
    """Each organisation learns which of its events now fall outside the window."""
    data = message.data
    by_organisation: dict[str, list] = {}
    for event in data.get("events_outside_window") or []:
        if event.get("organisation_id"):
            by_organisation.setdefault(event["organisation_id"], []).append(event)
    for organisation_id, events in by_organisation.items():
        notice = f"{message.id}:outside:{organisation_id}"
        if add_notice(session, notice, "events_outside_window", {
                "campaign_name": data["name"], "day_of_action": str(data["day_of_action"]),
                "window_start": str(data["window_start"]), "window_end": str(data["window_end"]),
                "events": [_outside_event(session, e) for e in events]}):
            to_recipients(session, notice, contact_of(organisation_id))


def _outside_event(session: Session, event: dict) -> dict:
    known = session.get(KnownEvent, event["id"])
    return {"id": event["id"], "title": known.title if known else {}, "languages": known.languages if known else [],
            "starts_local": event.get("start"), "timezone": event.get("timezone")}


def remember_event(session: Session, message: Message) -> tuple[KnownEvent, str | None]:
    """Keep the event's copy; answer it and its status before this message."""
    before = session.scalar(select(KnownEvent.status).where(KnownEvent.id == message.data["id"]))
    EVENTS.apply(session, message)
    return session.get(KnownEvent, message.data["id"], populate_existing=True), before


def _public(session: Session, event: KnownEvent) -> bool:
    """Approved, public, and of no country on hold: what subscribers may hear of."""
    return event.status == "approved" and event.visibility == "public" and not country_held(session, event.country)


def country_held(session: Session, country: str) -> bool:
    return session.execute(held_countries(country_holds).where(country_holds.c.country == country)).first() \
        is not None


@handles("event.submitted")
def event_submitted(session: Session, message: Message) -> None:
    event, _ = remember_event(session, message)
    notice = f"{message.id}:submitted"
    if add_notice(session, notice, "event_submitted", {"event": event_context(event),
                                                       "organisation_id": event.organisation_id}):
        to_recipients(session, notice, coordinators())


@handles("event.approved")
def event_approved(session: Session, message: Message) -> None:
    event, _ = remember_event(session, message)
    _decided(session, message, event, "approved", None)
    if _public(session, event):
        notice = f"{message.id}:new"
        if add_notice(session, notice, "new_event", {"event": event_context(event)}):
            to_recipients(session, notice, subscribers(covering("new_events", campaign_id=event.campaign_id,
                                                                country=event.country, city=event.city)))


@handles("event.rejected")
def event_rejected(session: Session, message: Message) -> None:
    event, _ = remember_event(session, message)
    _decided(session, message, event, "rejected", message.data["reason"])


def _decided(session: Session, message: Message, event: KnownEvent, decision: str, reason: str | None) -> None:
    notice = f"{message.id}:decided"
    if add_notice(session, notice, "event_decided", {"event": event_context(event), "decision": decision,
                                                     "reason": reason}):
        to_recipients(session, notice, contact_of(event.organisation_id))


@handles("event.updated")
def event_updated(session: Session, message: Message) -> None:
    """Subscribers hear of a new time or place of an event they could see — and only while it
    stays approved (an approved event's change comes only once a coordinator accepted it); its
    reminders are planned again from the new time."""
    event, before = remember_event(session, message)
    changed = set(message.data.get("changed") or [])
    if before == "approved" and _public(session, event) and changed & PUBLIC_CHANGES:
        notice = f"{message.id}:changed"
        if add_notice(session, notice, "event_changed", {"event": event_context(event),
                                                         "changed": sorted(changed & PUBLIC_CHANGES)}):
            to_recipients(session, notice, subscribers(covering(
                "changes", campaign_id=event.campaign_id, country=event.country, city=event.city, event_id=event.id)))
    if changed & TIME_CHANGES:
        reminders.replan(session, event.id)


@handles("event.cancelled")
def event_cancelled(session: Session, message: Message) -> None:
    event, before = remember_event(session, message)
    if before == "approved" and event.visibility == "public" and not country_held(session, event.country):
        notice = f"{message.id}:cancelled"
        if add_notice(session, notice, "event_cancelled", {"event": event_context(event)}):
            # Whoever waits for a reminder hears of the cancellation too (once per person).
            to_recipients(session, notice, subscribers(
                covering("changes", campaign_id=event.campaign_id, country=event.country, city=event.city,
                         event_id=event.id),
                covering("reminders", event_id=event.id)))
    reminders.cancel_for_event(session, event.id)


@handles("event.place_disclosed")
def place_disclosed(session: Session, message: Message) -> None:
    """Its address has just become public: those coming with a confirmed address hear where."""
    event = session.get(KnownEvent, message.data["id"])
    if event is None or not _public(session, event):
        return
    notice = f"{message.id}:place"
    place = {key: message.data.get(key) for key in ("venue", "address")}
    if add_notice(session, notice, "place_disclosed", {"event": event_context(event), "place": place}):
        to_recipients(session, notice, select(literal("subscription:").concat(Participation.subscription_id)).where(
            Participation.event_id == event.id, Participation.status == "coming",
            Participation.subscription_id.is_not(None)))


def report_context(data: dict) -> dict:
    return {k: data.get(k) for k in ("id", "campaign_id", "event_id", "organisation_id", "country", "title",
                                     "language", "turnout")}


@handles("report.submitted")
def report_submitted(session: Session, message: Message) -> None:
    notice = f"{message.id}:submitted"
    if add_notice(session, notice, "report_submitted", {"report": report_context(message.data)}):
        to_recipients(session, notice, coordinators())


@handles("report.published")
def report_published(session: Session, message: Message) -> None:
    data = message.data
    _report_decided(session, message, "published", None)
    if country_held(session, data["country"]):
        return
    event = session.get(KnownEvent, data["event_id"]) if data.get("event_id") else None
    notice = f"{message.id}:published"
    if add_notice(session, notice, "report_published", {"report": report_context(data)}):
        to_recipients(session, notice, subscribers(covering(
            "reports", campaign_id=data["campaign_id"], country=data["country"], city=event.city if event else None,
            event_id=data.get("event_id"))))


@handles("report.rejected")
def report_rejected(session: Session, message: Message) -> None:
    _report_decided(session, message, "rejected", message.data["reason"])


def _report_decided(session: Session, message: Message, decision: str, reason: str | None) -> None:
    notice = f"{message.id}:decided"
    if add_notice(session, notice, "report_decided", {"report": report_context(message.data),
                                                      "decision": decision, "reason": reason}):
        to_recipients(session, notice, contact_of(message.data["organisation_id"]))


__all__ = ["fanout", "handles"]
