"""The registry's use cases: each takes a session and commits nothing itself.

The caller's transaction holds the state change and the outbox message together.
"""
from __future__ import annotations

import unicodedata
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.registry.models import ApiKey, Coordinator, Organisation
from shared.auth import AuthError, Principal, digest, digest_matches, new_api_key, parse_api_key
from shared.bus.outbox import Outbox
from shared.db import forget_after_commit, utcnow
from shared.errors import Conflict, NotFound, Unauthenticated
from shared.revocations import set_revoked

PUBLIC_FIELDS = ("abbreviation", "name", "name_en", "country", "timezone", "languages", "website")
MAX_ACTIVE_KEYS = 20


def abbreviation_key(abbreviation: str) -> str:
    """What makes two abbreviations the same: case, width (ＣＰＫ), invisible characters and
    spacing do not count."""
    folded = unicodedata.normalize("NFKC", abbreviation).casefold()
    visible = "".join(ch for ch in folded if unicodedata.category(ch) != "Cf")
    return " ".join(visible.split())


def public_data(org: Organisation) -> dict:
    return {"id": org.id, "status": org.status, **{f: getattr(org, f) for f in PUBLIC_FIELDS}}


def _check_unique(session: Session, country: str, abbreviation: str, except_id: str | None = None):
    stmt = select(Organisation.id).where(Organisation.country == country,
                                         Organisation.abbreviation_key == abbreviation_key(abbreviation))
    if except_id:
        stmt = stmt.where(Organisation.id != except_id)
    existing = session.execute(stmt).scalar()
    if existing:
        raise Conflict(f"{country} already has an organisation abbreviated '{abbreviation}'.",
                       existing_id=existing)


def _flush_unique(session: Session, country: str, abbreviation: str) -> None:
    """Write now; a registration that raced ours to the same abbreviation is a conflict."""
    try:
        session.flush()
    except IntegrityError as exc:
        if "abbreviation" not in str(exc.orig).lower() and "uq_organisations" not in str(exc.orig):
            raise
        raise Conflict(f"{country} already has an organisation abbreviated '{abbreviation}'.") from None


def get_organisation(session: Session, organisation_id: str) -> Organisation:
    org = session.get(Organisation, organisation_id)
    if org is None:
        raise NotFound(f"No organisation has the id {organisation_id}.")
    return org


def register_organisation(session: Session, outbox: Outbox, fields: dict) -> Organisation:
    _check_unique(session, fields["country"], fields["abbreviation"])
    org = Organisation(**fields, abbreviation_key=abbreviation_key(fields["abbreviation"]),
                       status="active")
    session.add(org)
    _flush_unique(session, fields["country"], fields["abbreviation"])
    outbox.add(session, "organisation.registered", public_data(org))
    return org


def update_organisation(session: Session, outbox: Outbox, org: Organisation, fields: dict) -> list[str]:
    """Apply `fields`; answer the names of the public fields that changed."""
    country = fields.get("country", org.country)
    abbreviation = fields.get("abbreviation", org.abbreviation)
    if (country, abbreviation_key(abbreviation)) != (org.country, org.abbreviation_key):
        _check_unique(session, country, abbreviation, except_id=org.id)
    changed = [name for name, value in fields.items() if getattr(org, name) != value]
    if not changed:
        return []
    for name in changed:
        setattr(org, name, fields[name])
    if "contact_email" in changed:  # the old address leaves no copy in the database's files
        forget_after_commit(session, "organisations")
    org.abbreviation_key = abbreviation_key(org.abbreviation)
    org.updated_at = utcnow()
    _flush_unique(session, org.country, org.abbreviation)
    public_changed = [name for name in changed if name in PUBLIC_FIELDS]
    if public_changed:
        outbox.add(session, "organisation.updated", {**public_data(org), "changed": public_changed})
    return changed


def suspend(session: Session, outbox: Outbox, revocations, org: Organisation, reason: str) -> bool:
    if org.status == "suspended":
        return False
    org.status, org.suspension_reason, org.updated_at = "suspended", reason, utcnow()
    message = outbox.add(session, "organisation.suspended", {"id": org.id, "reason": reason})
    set_revoked(session, revocations, "organisation", org.id, True, _when(message))
    return True


def reinstate(session: Session, outbox: Outbox, revocations, org: Organisation) -> bool:
    if org.status != "suspended":
        return False
    org.status, org.suspension_reason, org.updated_at = "active", None, utcnow()
    message = outbox.add(session, "organisation.reinstated", {"id": org.id})
    set_revoked(session, revocations, "organisation", org.id, False, _when(message))
    return True


def _when(envelope: dict) -> datetime:
    # The registry records its own revocations with the time its message carries, so its
    # table and every other service's agree on what is newest.
    return datetime.fromisoformat(envelope["occurred_at"])


def create_coordinator(session: Session, name: str) -> Coordinator:
    coordinator = Coordinator(name=name)
    session.add(coordinator)
    session.flush()
    return coordinator


def get_coordinator(session: Session, coordinator_id: str) -> Coordinator:
    coordinator = session.get(Coordinator, coordinator_id)
    if coordinator is None:
        raise NotFound(f"No coordinator has the id {coordinator_id}.")
    return coordinator


def issue_key(session: Session, owner_kind: str, owner_id: str, label: str | None) -> tuple[ApiKey, str]:
    """Answer the stored key and the key itself, which is never stored."""
    owner = Organisation if owner_kind == "organisation" else Coordinator
    # Lock the owner (PostgreSQL), so two requests at once cannot both pass the limit.
    session.execute(select(owner.id).where(owner.id == owner_id).with_for_update())
    active = session.execute(select(func.count()).select_from(ApiKey).where(
        ApiKey.owner_kind == owner_kind, ApiKey.owner_id == owner_id,
        ApiKey.revoked_at.is_(None))).scalar_one()
    if active >= MAX_ACTIVE_KEYS:
        raise Conflict(f"This {owner_kind} has {active} active keys; revoke one before adding another.")
    key_id, key = new_api_key()
    _, secret = parse_api_key(key)
    row = ApiKey(id=key_id, owner_kind=owner_kind, owner_id=owner_id, label=label,
                 digest=digest(secret))
    session.add(row)
    session.flush()
    return row, key


def get_key(session: Session, owner_kind: str, owner_id: str, key_id: str) -> ApiKey:
    row = session.get(ApiKey, key_id)
    if row is None or (row.owner_kind, row.owner_id) != (owner_kind, owner_id):
        raise NotFound(f"This {owner_kind} has no key with the id {key_id}.")
    return row


def revoke_key(session: Session, outbox: Outbox, revocations, row: ApiKey) -> None:
    if row.revoked_at is not None:
        return
    row.revoked_at = utcnow()
    message = outbox.add(session, "key.revoked", {"key_id": row.id, "owner_kind": row.owner_kind,
                                                  "owner_id": row.owner_id})
    set_revoked(session, revocations, "key", row.id, True, _when(message))


def principal_for_key(session: Session, key: str) -> Principal:
    """Check an API key; answer whom a token for it speaks for."""
    try:
        key_id, secret = parse_api_key(key)
    except AuthError:
        raise Unauthenticated("That is not an API key of this platform.") from None
    row = session.get(ApiKey, key_id)
    if row is None or not digest_matches(secret, row.digest):
        raise Unauthenticated("Unknown API key.")
    if row.revoked_at is not None:
        raise Unauthenticated("This API key was revoked.")
    if row.owner_kind == "organisation":
        org = session.get(Organisation, row.owner_id)
        if org is None or org.status != "active":
            raise Unauthenticated("The organisation of this key is suspended.")
    row.last_used_at = utcnow()
    return Principal(role=row.owner_kind, subject_id=row.owner_id, key_id=row.id)
