"""Signed, expiring links in e-mails: confirm a subscription, unsubscribe in one click, erase
everything held about an address. A link carries what it acts on, signed with the service's
secret, so nobody can make one for someone else's subscription."""
from __future__ import annotations

import secrets

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from services.notify.models import LinkKey
from shared.config import Config
from shared.errors import DomainError

PURPOSES = ("confirm", "unsubscribe", "erase")
LONG_LIVED_SECONDS = 180 * 24 * 3600  # unsubscribe and erase links of an e-mail kept for months


class BadLink(DomainError):
    status, type_ = 400, "bad-link"


class ExpiredLink(DomainError):
    status, type_ = 410, "expired-link"


def link_secret(session: Session, config: Config) -> str:
    if config.NOTIFY_LINK_SECRET:
        return config.NOTIFY_LINK_SECRET
    key = session.get(LinkKey, 1)
    if key is None:
        key = LinkKey(id=1, secret=secrets.token_urlsafe(48))
        session.add(key)
        session.flush()
    return key.secret


class Links:
    def __init__(self, secret: str, config: Config):
        self.serializer = URLSafeTimedSerializer(secret)
        self.base = config.PUBLIC_URL.rstrip("/") + "/api/notify"
        self.confirm_seconds = config.NOTIFY_CONFIRM_HOURS * 3600

    def token(self, purpose: str, value: str) -> str:
        return self.serializer.dumps(value, salt=purpose)

    def url(self, purpose: str, value: str) -> str:
        path = {"confirm": "subscriptions/confirmation", "unsubscribe": "unsubscribe", "erase": "erasure"}[purpose]
        return f"{self.base}/{path}?token={self.token(purpose, value)}"

    def read(self, purpose: str, token: str | None) -> str:
        """What a link acts on; 400 for a link that was changed, 410 for an expired one."""
        max_age = self.confirm_seconds if purpose == "confirm" else LONG_LIVED_SECONDS
        try:
            return self.serializer.loads(token or "", salt=purpose, max_age=max_age)
        except SignatureExpired:
            raise ExpiredLink("This link has expired. Subscribe again, or use the link in a newer e-mail.") from None
        except BadSignature:
            raise BadLink("This link is not valid: it may have been cut or changed. Copy the whole link from the "
                          "e-mail.") from None
