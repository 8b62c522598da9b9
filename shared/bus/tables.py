"""The kernel's tables, added to every service's own metadata.

- bus_outbox: messages written in the same transaction as the state change; the relay
  publishes them and marks them sent. Also holds retries (to one queue, not before a time)
  and dead letters, so a back-off survives a crash.
- bus_inbox: ids of the messages a consumer has handled, written with their effect.
- access_revocations: revoked API keys and suspended organisations, as learnt from the
  bus, so every service refuses their tokens on its own (a copy: shared.revocations).
"""
from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, Index, Integer, LargeBinary, MetaData, String, Table, Text, text

from shared.db import UTCDateTime
from shared.revocations import add_revocations_table


def add_kernel_tables(metadata: MetaData) -> dict[str, Table]:
    outbox = Table(
        "bus_outbox", metadata,
        Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
        Column("message_id", String(36), nullable=False),
        Column("routing_key", String(200), nullable=False),
        # Empty: publish to the topic exchange; else straight to this queue (retries, dead letters).
        Column("queue", String(200), nullable=True),
        Column("body", Text, nullable=False),
        Column("headers", JSON, nullable=False),
        Column("available_at", UTCDateTime(), nullable=False),
        Column("sent_at", UTCDateTime(), nullable=True),
        Index("ix_bus_outbox_pending", "available_at",
              sqlite_where=text("sent_at IS NULL"), postgresql_where=text("sent_at IS NULL")),
    )
    inbox = Table(
        "bus_inbox", metadata,
        Column("message_id", String(36), primary_key=True),
        Column("type", String(200), nullable=False),
        Column("handled_at", UTCDateTime(), nullable=False),
    )
    revocations = add_revocations_table(metadata)
    return {"outbox": outbox, "inbox": inbox, "revocations": revocations}


def add_idempotency_table(metadata: MetaData) -> Table:
    """POSTs sent again with the same Idempotency-Key get their first answer (shared.http.idempotency)."""
    return Table(
        "idempotency_keys", metadata,
        Column("scope", String(120), primary_key=True),  # the caller: role and subject
        Column("key", String(255), primary_key=True),
        Column("fingerprint", String(64), nullable=False),  # the request: method, path, query, body
        Column("status", Integer, nullable=True),  # none while it is being answered
        Column("headers", Text, nullable=True),
        Column("body", LargeBinary, nullable=True),
        Column("created_at", UTCDateTime(), nullable=False),
        Index("ix_idempotency_keys_created", "created_at"),
    )
