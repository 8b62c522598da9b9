"""Messages the notify service consumes: every type in the catalogue (any may go to a
webhook), and for some an e-mail to the people the issue names."""
from __future__ import annotations

import json

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
from services.notify.models import KnownCampaign, KnownEvent, KnownOrganisation, country_holds, metadata
from services.notify.webhooks.queue import queue_deliveries
from shared.bus.catalogue import WEBHOOK_TYPES, dump
from shared.bus.consumer import Message, merge_handlers
from shared.country_holds import country_hold_handlers, held_countries
from shared.revocations import revocation_handlers

EVENT_FIELDS = ("campaign_id", "organisation_id", "title", "languages", "city", "country", "timezone",
                "starts_local", "starts_at", "ends_at", "status", "visibility", "activity_type")
TIME_CHANGES = {"starts_local", "starts_at", "timezone"}
PUBLIC_CHANGES = {"starts_local", "starts_at", "ends_local", "ends_at", "timezone", "city", "country", "venue",
                  "address", "online_url", "title"}


def envelope(message: Message) -> str:
    """The message as it travelled, for webhooks (their body is the envelope)."""
    return json.dumps({"id": message.id, "type": message.type, "version": message.version,
                       "occurred_at": message.occurred_at.isoformat(), "source": message.source,
                       "correlation_id": message.correlation_id, "data": dump(message.type, message.data)},
                      ensure_ascii=False, separators=(",", ":"))


def forward(session: Session, message: Message) -> None:
    if queue_deliveries(session, message, envelope(message)):
        wakeups.after_commit(session, wakeups.WEBHOOKS)


def _newer(row, message: Message) -> bool:
    return row is None or message.occurred_at >= row.as_of


def organisation_changed(session: Session, message: Message) -> None:
    data, org = message.data, session.get(KnownOrganisation, message.data["id"])
    if org is None:
        session.add(KnownOrganisation(id=data["id"], abbreviation=data["abbreviation"], name=data["name"],
                                      as_of=message.occurred_at))
    elif _newer(org, message):
        org.abbreviation, org.name, org.as_of = data["abbreviation"], data["name"], message.occurred_at


def campaign_changed(session: Session, message: Message) -> None:
    data, campaign = message.data, session.get(KnownCampaign, message.data["id"])
    if campaign is None:
        campaign = KnownCampaign(id=data["id"], name=data["name"], status=data["status"], as_of=message.occurred_at)
        session.add(campaign)
    elif not _newer(campaign, message):
        return
    campaign.name, campaign.status, campaign.as_of = data["name"], data["status"], message.occurred_at
    campaign.closed_at = (campaign.closed_at or message.occurred_at) if data["status"] == "closed" else None


def campaign_rescheduled(session: Session, message: Message) -> None:
    """Each organisation learns which of its events now fall outside the window."""
    campaign_changed(session, message)
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
    data, event = message.data, session.get(KnownEvent, message.data["id"])
    before = event.status if event is not None else None
    if event is None:
        event = KnownEvent(id=data["id"], as_of=message.occurred_at, **{f: data[f] for f in EVENT_FIELDS})
        session.add(event)
    elif _newer(event, message):
        for name in EVENT_FIELDS:
            setattr(event, name, data[name])
        event.as_of = message.occurred_at
    session.flush()
    return event, before


def _public(session: Session, event: KnownEvent) -> bool:
    """Approved, public, and of no country on hold: what subscribers may hear of."""
    return event.status == "approved" and event.visibility == "public" and not country_held(session, event.country)


def country_held(session: Session, country: str) -> bool:
    return session.execute(held_countries(country_holds).where(country_holds.c.country == country)).first() \
        is not None


def event_submitted(session: Session, message: Message) -> None:
    event, _ = remember_event(session, message)
    notice = f"{message.id}:submitted"
    if add_notice(session, notice, "event_submitted", {"event": event_context(event),
                                                       "organisation_id": event.organisation_id}):
        to_recipients(session, notice, coordinators())


def event_approved(session: Session, message: Message) -> None:
    event, _ = remember_event(session, message)
    _decided(session, message, event, "approved", None)
    if _public(session, event):
        notice = f"{message.id}:new"
        if add_notice(session, notice, "new_event", {"event": event_context(event)}):
            to_recipients(session, notice, subscribers(covering("new_events", campaign_id=event.campaign_id,
                                                                country=event.country, city=event.city)))


def event_rejected(session: Session, message: Message) -> None:
    event, _ = remember_event(session, message)
    _decided(session, message, event, "rejected", message.data["reason"])


def _decided(session: Session, message: Message, event: KnownEvent, decision: str, reason: str | None) -> None:
    notice = f"{message.id}:decided"
    if add_notice(session, notice, "event_decided", {"event": event_context(event), "decision": decision,
                                                     "reason": reason}):
        to_recipients(session, notice, contact_of(event.organisation_id))


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


def report_context(data: dict) -> dict:
    return {k: data.get(k) for k in ("id", "campaign_id", "event_id", "organisation_id", "country", "title",
                                     "language", "turnout")}


def report_submitted(session: Session, message: Message) -> None:
    notice = f"{message.id}:submitted"
    if add_notice(session, notice, "report_submitted", {"report": report_context(message.data)}):
        to_recipients(session, notice, coordinators())


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


def report_rejected(session: Session, message: Message) -> None:
    _report_decided(session, message, "rejected", message.data["reason"])


def _report_decided(session: Session, message: Message, decision: str, reason: str | None) -> None:
    notice = f"{message.id}:decided"
    if add_notice(session, notice, "report_decided", {"report": report_context(message.data),
                                                      "decision": decision, "reason": reason}):
        to_recipients(session, notice, contact_of(message.data["organisation_id"]))


def build_handlers() -> dict:
    # Every message type may go to a webhook: forward each, then tell the people who must know.
    specific = {
        "organisation.registered": organisation_changed,
        "organisation.updated": organisation_changed,
        "campaign.created": campaign_changed,
        "campaign.updated": campaign_changed,
        "campaign.rescheduled": campaign_rescheduled,
        "event.submitted": event_submitted,
        "event.approved": event_approved,
        "event.rejected": event_rejected,
        "event.updated": event_updated,
        "event.cancelled": event_cancelled,
        "report.submitted": report_submitted,
        "report.published": report_published,
        "report.rejected": report_rejected,
    }
    return merge_handlers(revocation_handlers(metadata.tables["access_revocations"]),
                          country_hold_handlers(country_holds), {name: forward for name in WEBHOOK_TYPES}, specific)


__all__ = ["build_handlers", "fanout"]
