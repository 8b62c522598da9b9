"""The registry's use cases: each takes a session and commits nothing itself.

The caller's transaction holds the state change and the outbox message together.
"""
from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.registry.lookalikes import lookalike_key, mixed_script_words
from services.registry.models import ApiKey, Coordinator, Organisation, OrganisationRename
from shared.audit import record
from shared.auth import AuthError, Principal, digest, digest_matches, new_api_key, parse_api_key
from shared.bus.outbox import Outbox
from shared.db import forget_after_commit, utcnow
from shared.errors import Conflict, Invalid, NotFound, Unauthenticated
from shared.revocations import set_revoked

PUBLIC_FIELDS = ("abbreviation", "name", "name_en", "country", "timezone", "languages", "website")
# What an organisation changes of itself only with a coordinator's consent: who it is.
RENAME_FIELDS = ("abbreviation", "name", "name_en", "country")
SKELETON_FIELDS = ("abbreviation", "name", "name_en")
MAX_ACTIVE_KEYS = 20
LAST_USED_PRECISION = timedelta(minutes=1)  # how exactly a key's `last_used_at` is kept


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


def _found(session: Session, model, id_: str, what: str):
    row = session.get(model, id_)
    if row is None:
        raise NotFound(f"No {what} has the id {id_}.")
    return row


def get_organisation(session: Session, organisation_id: str) -> Organisation:
    return _found(session, Organisation, organisation_id, "organisation")


def _skeletons(values: dict) -> dict:
    return {f"{name}_skeleton": lookalike_key(values[name]) for name in SKELETON_FIELDS}


def lookalike_of(session: Session, values: dict, except_id: str | None = None) -> tuple[Organisation, str] | None:
    """Another organisation that `values` (abbreviation, name, name_en, country) would look
    like, and which field looks like it: the abbreviation within a country, the names anywhere."""
    keys = _skeletons(values)
    names = {keys["name_skeleton"], keys["name_en_skeleton"]}
    stmt = select(Organisation).where(or_(
        and_(Organisation.country == values["country"],
             Organisation.abbreviation_skeleton == keys["abbreviation_skeleton"]),
        Organisation.name_skeleton.in_(names), Organisation.name_en_skeleton.in_(names)))
    if except_id:
        stmt = stmt.where(Organisation.id != except_id)
    other = session.execute(stmt.order_by(Organisation.created_at, Organisation.id).limit(1)).scalar()
    if other is None:
        return None
    if other.country == values["country"] and other.abbreviation_skeleton == keys["abbreviation_skeleton"]:
        return other, "abbreviation"
    return other, "name" if keys["name_skeleton"] in (other.name_skeleton, other.name_en_skeleton) else "name_en"


def _who(org: Organisation) -> dict:
    """Which organisation another looks like, in a problem or a warning."""
    return {name: getattr(org, name) for name in ("id", "abbreviation", "name", "name_en", "country")}


def _refuse_lookalike(session: Session, values: dict, except_id: str | None = None) -> None:
    found = lookalike_of(session, values, except_id)
    if found is None:
        return
    other, field = found
    message = (f"'{values[field]}' looks like {other.abbreviation} ({other.name_en}, {other.country}), "
               "another organisation: choose a name that cannot be mistaken for it.")
    raise Conflict(message, existing_id=other.id, looks_like=_who(other),
                   errors=[{"field": field, "location": "json", "message": message}])


def lookalike_warnings(session: Session, values: dict, except_id: str | None = None) -> list[dict]:
    """What a coordinator should see before accepting a name: words that mix scripts, and
    the organisation it looks like (one registered since it was proposed)."""
    warnings = [{"kind": "mixed_script", "field": name, "words": words}
                for name in SKELETON_FIELDS if (words := mixed_script_words(values[name]))]
    found = lookalike_of(session, values, except_id)
    if found is not None:
        other, field = found
        warnings.append({"kind": "looks_like", "field": field, "organisation": _who(other)})
    return warnings


def register_organisation(session: Session, outbox: Outbox, fields: dict) -> Organisation:
    _check_unique(session, fields["country"], fields["abbreviation"])
    _refuse_lookalike(session, fields)
    org = Organisation(**fields, abbreviation_key=abbreviation_key(fields["abbreviation"]),
                       **_skeletons(fields), status="active")
    session.add(org)
    _flush_unique(session, fields["country"], fields["abbreviation"])
    outbox.add(session, "organisation.registered", public_data(org))
    return org


def identity(org: Organisation) -> dict:
    """Who the organisation is, as approved: the fields a rename changes."""
    return {name: getattr(org, name) for name in RENAME_FIELDS}


def _check_identity(session: Session, org: Organisation, values: dict) -> None:
    """`values` (the whole identity as it would be) may not be another organisation's, nor look like one."""
    if (values["country"], abbreviation_key(values["abbreviation"])) != (org.country, org.abbreviation_key):
        _check_unique(session, values["country"], values["abbreviation"], except_id=org.id)
    _refuse_lookalike(session, values, except_id=org.id)


def update_organisation(session: Session, outbox: Outbox, org: Organisation, fields: dict,
                        principal: Principal | None = None) -> list[str]:
    """Apply `fields`; answer the names of the fields that changed. An organisation's own change
    of who it is (RENAME_FIELDS) is kept aside for a coordinator (`propose_rename`); a
    coordinator's, or the operator's (`principal` None: the importer, the command line), applies at once."""
    fields = dict(fields)
    if principal is not None and not principal.is_coordinator:
        renamed = {name: fields.pop(name) for name in RENAME_FIELDS if name in fields}
        if renamed:
            propose_rename(session, outbox, org, renamed, principal)
    changed = [name for name, value in fields.items() if getattr(org, name) != value]
    if not changed:
        return []
    before = {name: getattr(org, name) for name in changed if name in RENAME_FIELDS}
    if before:
        _check_identity(session, org, {**identity(org), **{name: fields[name] for name in before}})
    _apply(session, outbox, org, {name: fields[name] for name in changed})
    if before:  # a coordinator's or the operator's (principal None) rename, at once: on record
        record(session, outbox, principal, "organisation.renamed", "organisation", org.id,
               before=before, after={name: getattr(org, name) for name in before})
    return changed


def _apply(session: Session, outbox: Outbox, org: Organisation, changes: dict) -> None:
    for name, value in changes.items():
        setattr(org, name, value)
    if "contact_email" in changes:  # the old address leaves no copy in the database's files
        forget_after_commit(session, "organisations", rewrite=("organisations",))
    org.abbreviation_key = abbreviation_key(org.abbreviation)
    for name, value in _skeletons(identity(org)).items():
        setattr(org, name, value)
    org.updated_at = utcnow()
    _flush_unique(session, org.country, org.abbreviation)
    public_changed = [name for name in changes if name in PUBLIC_FIELDS]
    if public_changed:
        outbox.add(session, "organisation.updated", {**public_data(org), "changed": public_changed})


# --- renames an organisation asks for, kept for a coordinator ------------------------------------

def pending_rename(session: Session, organisation_id: str) -> OrganisationRename | None:
    return session.execute(select(OrganisationRename).where(
        OrganisationRename.organisation_id == organisation_id,
        OrganisationRename.status == "pending")).scalar()


def propose_rename(session: Session, outbox: Outbox, org: Organisation, renamed: dict,
                   principal: Principal) -> OrganisationRename | None:
    """Keep an organisation's new name aside: refused now if it is, or looks like, another
    organisation's; joined with one already waiting; withdrawn if it is the approved name again."""
    waiting = pending_rename(session, org.id)
    proposed = {**(waiting.proposed if waiting else {}), **renamed}
    proposed = {name: value for name, value in proposed.items() if getattr(org, name) != value}
    if waiting is not None and waiting.proposed == proposed:
        return waiting
    if proposed:
        _check_identity(session, org, {**identity(org), **proposed})
    if waiting is not None:
        waiting.status, waiting.decided_at = "withdrawn", utcnow()
        session.flush()
    if not proposed:
        return None
    before = {name: getattr(org, name) for name in proposed}
    rename = OrganisationRename(organisation_id=org.id, proposed=proposed, before=before, status="pending")
    session.add(rename)
    session.flush()
    record(session, outbox, principal, "organisation.rename_proposed", "organisation", org.id,
           before=before, after=proposed)
    return rename


def get_rename(session: Session, rename_id: str) -> OrganisationRename:
    return _found(session, OrganisationRename, rename_id, "rename")


def _undecided(rename: OrganisationRename) -> None:
    if rename.status != "pending":
        raise Conflict(f"This rename is already {rename.status}.", current_status=rename.status)


def accept_rename(session: Session, outbox: Outbox, rename: OrganisationRename, principal: Principal) -> None:
    """The new name becomes the public one, if it still is no other organisation's look-alike."""
    _undecided(rename)
    org = get_organisation(session, rename.organisation_id)
    changes = {name: value for name, value in rename.proposed.items() if getattr(org, name) != value}
    _check_identity(session, org, {**identity(org), **changes})
    before = {name: getattr(org, name) for name in changes}
    _apply(session, outbox, org, changes)
    _decided(rename, "accepted", principal, None)
    record(session, outbox, principal, "organisation.rename_accepted", "organisation", org.id,
           before=before, after=changes)


def reject_rename(session: Session, outbox: Outbox, rename: OrganisationRename, principal: Principal,
                  reason: str | None) -> None:
    _undecided(rename)
    if not reason:
        raise Invalid("Say why the rename is rejected.",
                      errors=[{"field": "reason", "location": "json", "message": "Missing data."}])
    _decided(rename, "rejected", principal, reason)
    record(session, outbox, principal, "organisation.rename_rejected", "organisation", rename.organisation_id,
           reason=reason, before=rename.before, after=rename.proposed)


def _decided(rename: OrganisationRename, status: str, principal: Principal, reason: str | None) -> None:
    rename.status, rename.reason = status, reason
    rename.decided_by, rename.decided_at = principal.subject_id, utcnow()


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
    return _found(session, Coordinator, coordinator_id, "coordinator")


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


def revoke_key(session: Session, outbox: Outbox, revocations, row: ApiKey) -> bool:
    """Revoke the key; answer False if it was revoked already (nothing changes)."""
    if row.revoked_at is not None:
        return False
    row.revoked_at = utcnow()
    message = outbox.add(session, "key.revoked", {"key_id": row.id, "owner_kind": row.owner_kind,
                                                  "owner_id": row.owner_id})
    set_revoked(session, revocations, "key", row.id, True, _when(message))
    return True


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
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_PRECISION:
        row.last_used_at = now  # a write per key a minute, not one per token request
    return Principal(role=row.owner_kind, subject_id=row.owner_id, key_id=row.id)
