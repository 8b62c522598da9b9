"""The registry's tables."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.bus.tables import add_idempotency_table, add_kernel_tables
from shared.columns import COLUMN_TYPES, AwaitingDecision, NewId, NewTimeOrderedId, Ref, Timestamp


class Base(DeclarativeBase):
    type_annotation_map = COLUMN_TYPES


class Organisation(Base):
    __tablename__ = "organisations"
    __table_args__ = (
        # One abbreviation per country, whatever its case ("CPK" and "cpk" are the same).
        UniqueConstraint("country", "abbreviation_key", name="uq_organisations_country_abbreviation"),
        Index("ix_organisations_created", "created_at", "id"),
        Index("ix_organisations_country_created", "country", "created_at", "id"),
        Index("ix_organisations_status_created", "status", "created_at", "id"),
    )

    id: Mapped[NewTimeOrderedId]  # see shared.ids
    abbreviation: Mapped[str] = mapped_column(String(40))
    # Folding can lengthen text (ß → ss, ﬃ → ffi): room for three times the abbreviation.
    abbreviation_key: Mapped[str] = mapped_column(String(120))
    name: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str] = mapped_column(String(300))
    # Confusable skeletons (UTS #39, lookalikes.lookalike_key): no two organisations may look
    # alike by them (the abbreviation within a country, the names anywhere).
    abbreviation_skeleton: Mapped[str] = mapped_column(Text)
    name_skeleton: Mapped[str] = mapped_column(Text)
    name_en_skeleton: Mapped[str] = mapped_column(Text)
    country: Mapped[str] = mapped_column(String(2))
    timezone: Mapped[str] = mapped_column(String(64))
    languages: Mapped[list] = mapped_column(JSON, default=list)
    website: Mapped[str | None] = mapped_column(String(500), nullable=True)
    contact_email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="active")
    suspension_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[Timestamp]
    updated_at: Mapped[Timestamp]


class OrganisationRename(AwaitingDecision, Base):
    """An organisation's change of its name, English name, abbreviation or country, kept aside
    until a coordinator decides: meanwhile everyone sees the name as approved. Withdrawn: changed
    back to the approved name."""

    __tablename__ = "organisation_renames"
    __table_args__ = (Index("ix_organisation_renames_status", "status", "proposed_at", "id"),
                      Index("ix_organisation_renames_organisation", "organisation_id", "status"))

    id: Mapped[NewId]
    organisation_id: Mapped[Ref] = mapped_column(ForeignKey("organisations.id"))


class Coordinator(Base):
    __tablename__ = "coordinators"

    id: Mapped[NewId]
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[Timestamp]


class ApiKey(Base):
    __tablename__ = "api_keys"
    __table_args__ = (Index("ix_api_keys_owner", "owner_kind", "owner_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    owner_kind: Mapped[str] = mapped_column(String(20))  # coordinator or organisation
    owner_id: Mapped[Ref]
    label: Mapped[str | None] = mapped_column(String(100), nullable=True)
    digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[Timestamp]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class SigningKey(Base):
    """Ed25519 keys the registry signs tokens with; the public halves are the JWKS."""

    __tablename__ = "signing_keys"

    kid: Mapped[NewId]
    private_pem: Mapped[str] = mapped_column(Text)
    created_at: Mapped[Timestamp]
    retired_at: Mapped[datetime | None]


class AuditEntry(Base):
    """One decision on record, chained to the one before by its hash (services/registry/audit.py).
    Rows are only ever added: on PostgreSQL a trigger refuses UPDATE and DELETE."""

    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_recorded", "recorded_at", "message_id"),
                      Index("ix_audit_entries_subject", "subject_kind", "subject_id"),
                      Index("ix_audit_entries_actor", "actor_id"))

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    message_id: Mapped[str] = mapped_column(String(36), unique=True)
    occurred_at: Mapped[datetime]  # when the act was done
    recorded_at: Mapped[Timestamp]
    service: Mapped[str] = mapped_column(String(20))
    actor_role: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[Ref | None]
    key_id: Mapped[Ref | None]
    action: Mapped[str] = mapped_column(String(80))
    subject_kind: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[str] = mapped_column(String(80))
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    before: Mapped[dict] = mapped_column(JSON, default=dict)
    after: Mapped[dict] = mapped_column(JSON, default=dict)
    previous_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The newest entry's number and hash: one row, locked while an entry is added, so entries
    chain in one line however many workers add them; and a removed last entry shows."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))


class TotpFactor(Base):
    """A holder's authenticator app: its secret sealed (Fernet), unconfirmed until a first code."""

    __tablename__ = "totp_factors"

    holder_kind: Mapped[str] = mapped_column(String(20), primary_key=True)  # coordinator or organisation
    holder_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    secret_sealed: Mapped[str] = mapped_column(Text)
    # The newest 30-second step a code was accepted for: a code is good once.
    last_step: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[Timestamp]
    confirmed_at: Mapped[datetime | None]


class RecoveryCode(Base):
    """One-time codes for a holder who lost their factor, kept as SHA-256 digests."""

    __tablename__ = "recovery_codes"
    __table_args__ = (Index("ix_recovery_codes_holder", "holder_kind", "holder_id"),)

    id: Mapped[NewId]
    holder_kind: Mapped[str] = mapped_column(String(20))
    holder_id: Mapped[Ref]
    digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[Timestamp]
    used_at: Mapped[datetime | None]


class Passkey(Base):
    """A WebAuthn credential: its id and public key (base64url), its signature counter."""

    __tablename__ = "passkeys"
    __table_args__ = (Index("ix_passkeys_holder", "holder_kind", "holder_id"),
                      UniqueConstraint("credential_id", name="uq_passkeys_credential"))

    id: Mapped[NewId]
    holder_kind: Mapped[str] = mapped_column(String(20))
    holder_id: Mapped[Ref]
    credential_id: Mapped[str] = mapped_column(String(1400))
    public_key: Mapped[str] = mapped_column(Text)
    sign_count: Mapped[int] = mapped_column(BigInteger, default=0)
    label: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[Timestamp]
    last_used_at: Mapped[datetime | None]


class FactorChallenge(Base):
    """A WebAuthn challenge handed out, good once and for a few minutes."""

    __tablename__ = "factor_challenges"

    id: Mapped[NewId]
    holder_kind: Mapped[str] = mapped_column(String(20))
    holder_id: Mapped[Ref]
    purpose: Mapped[str] = mapped_column(String(20))  # register or authenticate
    challenge: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime]


class SignInSession(Base):
    """A sign-in with key (and second factor): its secret, kept by the web, makes fresh tokens
    without asking the factor again until it expires or is ended. No address is kept."""

    __tablename__ = "signin_sessions"
    __table_args__ = (Index("ix_signin_sessions_holder", "holder_kind", "holder_id", "created_at"),
                      UniqueConstraint("secret_digest", name="uq_signin_sessions_secret"))

    id: Mapped[NewId]
    holder_kind: Mapped[str] = mapped_column(String(20))
    holder_id: Mapped[Ref]
    key_id: Mapped[Ref]
    secret_digest: Mapped[str] = mapped_column(String(64))
    amr: Mapped[list] = mapped_column(JSON, default=list)
    label: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[Timestamp]
    last_used_at: Mapped[Timestamp]
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


add_kernel_tables(Base.metadata)
add_idempotency_table(Base.metadata)  # added later, by its own migration
metadata = Base.metadata
