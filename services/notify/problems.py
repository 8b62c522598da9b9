"""What is failing in deliveries, for the coordinators' dashboard: webhook endpoints (of any
owner) that are disabled or have failed or retrying deliveries, and e-mails that failed or are
being retried. Counted with a few grouped queries, whatever the number of deliveries.

Never an address or a delivery's body: participants may risk persecution. Error texts are
shown with e-mail addresses blanked (an SMTP server's refusal often names the recipient), and
an endpoint's URL only as where it points (its path or query often holds the receiver's own
secret), as in the e-mail that tells coordinators of a disabled endpoint.
"""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from services.notify.mail_dispatch import retry_delay
from services.notify.models import DeliveryAttempt, KnownOrganisation, Notification, WebhookDelivery, WebhookEndpoint
from shared.logs import EMAIL_ADDRESS

RETRIED = ("pending", "sending")  # with an attempt behind them: being retried
HIDDEN = "[address hidden]"


def without_addresses(text: str | None) -> str | None:
    """The text with anything that looks like an e-mail address blanked."""
    return None if text is None else EMAIL_ADDRESS.sub(HIDDEN, text)


def shown_url(url: str) -> str:
    """Where an endpoint points, without its path or query."""
    parts = urlsplit(url)
    base = f"{parts.scheme}://{parts.netloc}"
    return base + ("/" if url[len(base):] in ("", "/") else "/…")


def delivery_problems(session: Session, lease_seconds: float) -> dict:
    return {"webhooks": webhook_problems(session), "email": email_problems(session, lease_seconds)}


def webhook_problems(session: Session) -> list[dict]:
    """One row per endpoint that is disabled or has failed or retrying deliveries, worst first:
    disabled ones, then by failed + retrying."""
    D, E, A, O = WebhookDelivery, WebhookEndpoint, DeliveryAttempt, KnownOrganisation  # noqa: N806
    is_failed = D.status == "failed"
    is_retrying = and_(D.status.in_(RETRIED), D.attempts >= 1)
    counts = (select(D.endpoint_id, func.sum(case((is_failed, 1), else_=0)).label("failed"),
                     func.sum(case((is_retrying, 1), else_=0)).label("retrying"))
              .where(or_(is_failed, is_retrying)).group_by(D.endpoint_id).subquery())
    endpoints = session.execute(
        select(E.id, E.owner_id, E.role, E.url, E.status, E.disabled_reason, O.abbreviation, O.name,
               func.coalesce(counts.c.failed, 0), func.coalesce(counts.c.retrying, 0))
        .outerjoin(counts, counts.c.endpoint_id == E.id)
        .outerjoin(O, and_(O.id == E.owner_id, E.role == "organisation"))
        .where(or_(E.status == "disabled", counts.c.endpoint_id.is_not(None)))).all()
    if not endpoints:
        return []
    ids = [row[0] for row in endpoints]

    # The newest attempt that did not succeed, per endpoint (ties, one batch's attempts share
    # their time, go to the highest attempt number).
    went_wrong = or_(A.error.is_not(None), A.status_code.is_(None), A.status_code < 200, A.status_code > 299)
    ranked = (select(D.endpoint_id, A.error, A.status_code, A.at,
                     func.row_number().over(partition_by=D.endpoint_id,
                                            order_by=(A.at.desc(), A.number.desc(), A.id.desc())).label("rank"))
              .join(D, D.id == A.delivery_id).where(D.endpoint_id.in_(ids), went_wrong).subquery())
    last_errors = {endpoint_id: (error, status_code, at) for endpoint_id, error, status_code, at in session.execute(
        select(ranked.c.endpoint_id, ranked.c.error, ranked.c.status_code, ranked.c.at).where(ranked.c.rank == 1))}

    rows = []
    for endpoint_id, owner_id, role, url, status, reason, abbreviation, name, failed, retrying in endpoints:
        error, status_code, attempted_at = last_errors.get(endpoint_id, (None, None, None))
        if error is None and status_code is not None:
            error = f"HTTP {status_code}"
        rows.append({"endpoint_id": endpoint_id, "owner_id": owner_id, "owner_name": name,
                     "owner_abbreviation": abbreviation, "role": role, "url": shown_url(url), "status": status,
                     "disabled_reason": without_addresses(reason), "failed": int(failed), "retrying": int(retrying),
                     "last_error": without_addresses(error), "last_attempt_at": attempted_at})
    rows.sort(key=lambda r: (r["status"] != "disabled", -(r["failed"] + r["retrying"]),
                             -(r["last_attempt_at"].timestamp() if r["last_attempt_at"] else 0), r["endpoint_id"]))
    return rows


def email_problems(session: Session, lease_seconds: float) -> dict:
    """How many e-mails failed for good, how many are being retried, and the newest error.

    A notification keeps no log of its attempts, so when its newest error happened is worked
    out from `next_at`: a failed one's is the moment it failed; a pending one waits
    `retry_delay(attempts)` after its failure; one being sent again was claimed
    `lease_seconds` before its `next_at`, which is (at the latest) that delay after its failure.
    Grouped by status and attempt count, so each group has one delay.
    """
    N = Notification  # noqa: N806
    groups = session.execute(
        select(N.status, N.attempts, func.count(), func.max(N.next_at))
        .where(or_(N.status == "failed", and_(N.status.in_(RETRIED), N.attempts >= 1)))
        .group_by(N.status, N.attempts)).all()
    failed = sum(n for status, _, n, _ in groups if status == "failed")
    retrying = sum(n for status, _, n, _ in groups if status != "failed")
    newest = None  # (when, status, attempts, next_at)
    for status, attempts, _, next_at in groups:
        when = next_at
        if status != "failed":
            when = next_at - retry_delay(attempts)
            if status == "sending":
                when -= timedelta(seconds=lease_seconds)
        if newest is None or when > newest[0]:
            newest = (when, status, attempts, next_at)
    last_error = None
    if newest is not None:
        _, status, attempts, next_at = newest
        last_error = session.execute(select(N.last_error).where(N.status == status, N.attempts == attempts,
                                                                 N.next_at == next_at)
                                     .order_by(N.id.desc()).limit(1)).scalar()
    return {"failed": failed, "retrying": retrying, "last_error": without_addresses(last_error),
            "last_at": newest[0] if newest else None}
