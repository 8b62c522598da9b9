"""Signed, expiring links in e-mails: confirm a subscription, unsubscribe in one click, erase
everything held about an address. A link carries what it acts on, signed with the service's
secret, so nobody can make one for someone else's subscription."""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from services.notify.models import LinkKey
from shared.config import Config
from shared.db import insert_for
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
    if key is None:  # the first to ask makes it; two at once keep the one stored first
        session.execute(insert_for(session, LinkKey.__table__).values(id=1, secret=secrets.token_urlsafe(48))
                        .on_conflict_do_nothing(index_elements=["id"]))
        key = session.get(LinkKey, 1, populate_existing=True)
    return key.secret


class Links:
    def __init__(self, secret: str, config: Config):
        self.serializer = URLSafeTimedSerializer(secret)
        self.secret = secret.encode()
        self.site = config.PUBLIC_URL.rstrip("/")
        self.base = self.site + "/api/notify"
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

    # A sign-up's private link (docs/participation.md): its id and 128 bits of an HMAC of it,
    # in base64url (43 characters). Worked out again to be checked, so never stored.

    def _mac(self, raw_id: bytes) -> bytes:
        return hmac.new(self.secret, b"participation:" + raw_id, hashlib.sha256).digest()[:16]

    def participation_key(self, participation_id: str) -> str:
        raw = uuid.UUID(participation_id).bytes
        return base64.urlsafe_b64encode(raw + self._mac(raw)).rstrip(b"=").decode()

    def participation_url(self, participation_id: str) -> str:
        return f"{self.site}/p/{self.participation_key(participation_id)}"

    def participation_of(self, key: str) -> str | None:
        """The sign-up a key opens, or None for anything else (changed, cut, made up)."""
        if len(key) != 43:
            return None
        try:
            raw = base64.urlsafe_b64decode(key + "=")
        except ValueError:
            return None
        if len(raw) != 32 or base64.urlsafe_b64encode(raw).rstrip(b"=").decode() != key \
                or not hmac.compare_digest(raw[16:], self._mac(raw[:16])):  # one spelling of a key only
            return None
        return str(uuid.UUID(bytes=raw[:16]))
