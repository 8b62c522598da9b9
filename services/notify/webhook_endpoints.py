"""Webhook endpoints of organisations and coordinators: registered with a URL that passes the
SSRF guard, a secret shown once, the message types picked; a delivery log; redelivery; switched
on again after being disabled, with or without a backfill of what it missed."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from services.notify.models import DeliveryAttempt, WebhookDelivery, WebhookEndpoint
from services.notify.webhooks.queue import drop_held, held_limits
from services.notify.webhooks.safety import UnsafeURL, check_url
from services.notify.webhooks.signing import new_secret
from shared.auth import Principal
from shared.config import Config
from shared.db import forget_after_commit, utcnow
from shared.errors import Conflict, DomainError, Invalid, NotFound


class RefusedURL(DomainError):
    """A well-formed http(s) URL that webhooks will not call (it reaches inside, carries
    credentials, does not resolve…)."""

    status, type_ = 422, "unsafe-url"


def allow_list(config: Config) -> tuple[str, ...]:
    return tuple(p.strip() for p in config.WEBHOOK_ALLOW.split(",") if p.strip())


def _checked_url(config: Config, url: str) -> str:
    try:
        checked = check_url(url, allow_list(config))
    except UnsafeURL as exc:
        raise RefusedURL(f"The URL cannot be used: {exc}",
                         errors=[{"field": "url", "location": "json", "message": str(exc)}]) from None
    if len(checked) > URL_LENGTH:  # written out (percent-encoded) it can grow past what we keep
        raise Invalid("The URL is too long.", errors=[{"field": "url", "location": "json",
                                                       "message": f"At most {URL_LENGTH} characters written out."}])
    return checked


URL_LENGTH = 2000


MAX_ENDPOINTS = 20  # per owner: the platform is not an amplifier aimed at someone's server


def register(session: Session, config: Config, principal: Principal, fields: dict) -> WebhookEndpoint:
    url = _checked_url(config, fields["url"])
    mine = of_owner(session, principal)
    if len(mine) >= MAX_ENDPOINTS:
        raise Conflict(f"An owner has {MAX_ENDPOINTS} endpoints at most; remove one first.")
    if any(e.url == url for e in mine):
        raise Conflict("You registered this URL already; change its types instead.")
    endpoint = WebhookEndpoint(owner_id=principal.subject_id, role=principal.role, url=url,
                               types=sorted(set(fields["types"])), secret=new_secret(), status="active")
    session.add(endpoint)
    session.flush()
    return endpoint


def owned_by(principal: Principal) -> Select:
    return select(WebhookEndpoint).where(WebhookEndpoint.owner_id == principal.subject_id)


def of_owner(session: Session, principal: Principal) -> list[WebhookEndpoint]:
    return list(session.execute(owned_by(principal).order_by(WebhookEndpoint.created_at)).scalars())


def get(session: Session, endpoint_id: str, principal: Principal) -> WebhookEndpoint:
    endpoint = session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or endpoint.owner_id != principal.subject_id:
        raise NotFound("No endpoint of yours has this id.")
    return endpoint


def change(session: Session, config: Config, endpoint: WebhookEndpoint, changes: dict) -> None:
    if "url" in changes:
        endpoint.url = _checked_url(config, changes["url"])
    if "types" in changes:
        endpoint.types = sorted(set(changes["types"]))
    if changes.get("status") == "active":
        reactivate(session, config, endpoint, backfill=False)


def with_held(session: Session, endpoints: list[WebhookEndpoint]) -> list["With"]:
    """The endpoints, each with how many messages are held for it (what it missed while it was
    switched off), counted in one query."""
    counts = dict(session.execute(
        select(WebhookDelivery.endpoint_id, func.count()).where(
            WebhookDelivery.endpoint_id.in_([e.id for e in endpoints]), WebhookDelivery.status == "held")
        .group_by(WebhookDelivery.endpoint_id)).all()) if endpoints else {}
    return [With(e, held=counts.get(e.id, 0)) for e in endpoints]


def reactivate(session: Session, config: Config, endpoint: WebhookEndpoint, backfill: bool) -> int:
    """Switch the endpoint on again. With `backfill`, the messages held for it while it was off
    (within WEBHOOK_HELD_MAX and WEBHOOK_HELD_DAYS) are queued in the order they came, a
    millisecond apart so the worker takes them in that order; without, they are dropped. Answers
    how many were queued. An endpoint already on is left as it is (and nothing is held for it)."""
    if endpoint.status == "active":
        return 0
    endpoint.status, endpoint.disabled_reason = "active", None
    keep, days = held_limits(config)
    now = utcnow()
    drop_held(session, endpoint.id, keep if backfill else 0, days, now=now)
    if not backfill:
        return 0
    waiting = list(session.execute(select(WebhookDelivery).where(
        WebhookDelivery.endpoint_id == endpoint.id, WebhookDelivery.status == "held")
        .order_by(WebhookDelivery.created_at, WebhookDelivery.id)).scalars())
    for n, delivery in enumerate(waiting):  # from the start of the schedule, as a redelivery
        delivery.status, delivery.attempts, delivery.next_at = "pending", 0, now + timedelta(milliseconds=n)
    return len(waiting)


def remove(session: Session, endpoint: WebhookEndpoint) -> None:
    session.query(WebhookDelivery).filter(WebhookDelivery.endpoint_id == endpoint.id).delete()
    session.delete(endpoint)
    # Its URL and secret leave no old row version in the database's files either.
    forget_after_commit(session, "webhook_endpoints", "webhook_deliveries", "webhook_attempts")


def redeliver(session: Session, endpoint: WebhookEndpoint, delivery_id: str) -> WebhookDelivery:
    delivery = session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.endpoint_id != endpoint.id:
        raise NotFound("No delivery of this endpoint has this id.")
    if endpoint.status != "active":
        raise Conflict("The endpoint is disabled: switch it on first (PATCH status active).",
                       disabled_reason=endpoint.disabled_reason)
    # From the start of the schedule again; the log keeps every earlier attempt.
    delivery.status, delivery.next_at, delivery.attempts = "pending", utcnow(), 0
    return delivery


class With:
    """An endpoint with figures beside it (how many are held, how many were backfilled)."""

    def __init__(self, endpoint: WebhookEndpoint, **figures: int):
        self.endpoint, self.figures = endpoint, figures

    def __getattr__(self, name):
        return self.figures[name] if name in self.figures else getattr(self.endpoint, name)


class LoggedDelivery:
    """A delivery with its attempts, oldest first: what the delivery log shows of it."""

    def __init__(self, delivery: WebhookDelivery, log: list[DeliveryAttempt]):
        self.delivery, self.log = delivery, log

    def __getattr__(self, name):
        return getattr(self.delivery, name)


def with_logs(session: Session, deliveries: list[WebhookDelivery]) -> list[LoggedDelivery]:
    """The deliveries with their attempts, read in one query."""
    logs: dict[str, list[DeliveryAttempt]] = {d.id: [] for d in deliveries}
    if logs:
        for attempt in session.execute(select(DeliveryAttempt).where(DeliveryAttempt.delivery_id.in_(list(logs)))
                                       .order_by(DeliveryAttempt.delivery_id, DeliveryAttempt.number)).scalars():
            logs[attempt.delivery_id].append(attempt)
    return [LoggedDelivery(d, logs[d.id]) for d in deliveries]
