"""Configuration from environment variables, each with an embedded default.

Every variable the platform reads is declared once in SETTINGS; `doa config` prints them
as the README's table, so the table and the code cannot drift apart.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

SERVICES = ("registry", "events", "media", "notify")


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    help: str
    cast: Callable[[str], Any] = str


SETTINGS: tuple[Setting, ...] = (
    Setting("HOST", "127.0.0.1", "Address the embedded server (`make run`) listens on."),
    Setting("PORT", "8000", "Port the embedded server listens on.", int),
    Setting("DOA_VAR_DIR", "var", "Folder for SQLite files and other local state."),
    Setting("BUS_URL", "memory://", "Message bus: `memory://` (one process), `redis://host:6379/0`, `amqp://user:pw@host:5672//`."),
    Setting("BUS_EXCHANGE", "doa", "Name of the durable topic exchange every message goes through."),
    Setting("BUS_MAX_ATTEMPTS", "5", "Tries before a failing message is parked in the dead-letter queue.", int),
    Setting("BUS_RETRY_BASE_SECONDS", "1.0", "First back-off after a failed try; doubles each try (capped at 5 minutes).", float),
    Setting("BUS_RELAY_INTERVAL", "0.2", "Seconds the outbox relay waits between polls when it has nothing to send.", float),
    Setting("BUS_RELAY_BATCH", "500", "Outbox rows the relay publishes per round.", int),
    Setting("BUS_VISIBILITY_TIMEOUT", "30", "Redis only: seconds before a message taken by a consumer that died is delivered again. A live consumer renews the messages it is handling every third of this, so a long handler is not redelivered while it runs.", int),
    Setting("BUS_INBOX_KEEP_DAYS", "7", "Days the id of a handled message is kept in `bus_inbox` to recognise a redelivery (which comes within minutes); older ids are pruned by the worker.", float),
    Setting("WORKER_HEARTBEAT_FILE", "", "`doa worker` touches this file every few seconds while healthy (container health checks read it)."),
    Setting("REGISTRY_DATABASE_URL", "", "SQLAlchemy URL of the registry's database (default: SQLite file `<DOA_VAR_DIR>/registry.db`)."),
    Setting("EVENTS_DATABASE_URL", "", "Likewise for the events service."),
    Setting("MEDIA_DATABASE_URL", "", "Likewise for the media service."),
    Setting("NOTIFY_DATABASE_URL", "", "Likewise for the notify service."),
    Setting("AUTO_MIGRATE", "true", "Bring the database schema up to date when a service starts.", _bool),
    Setting("JWKS_URL", "", "Where services fetch the registry's public keys (embedded mode: read in-process). E.g. `http://registry:8000/api/registry/.well-known/jwks.json`."),
    Setting("TOKEN_TTL_SECONDS", "900", "Lifetime of a signed access token (at most 900). Every service refuses a token that claims to live longer: give all of them the same value.", int),
    Setting("TOKEN_ISSUER", "dayofaction-registry", "`iss` claim of the access tokens."),
    Setting("REGISTRY_SIGNING_KEY", "", "Ed25519 private key (PEM) the registry signs tokens with; empty: generate one and keep it in the registry's database (rotate it with `doa registry rotate-signing-key`). A new value is a rotation: the old key keeps verifying for an hour, then is erased."),
    Setting("PROXY_HOPS", "0", "How many reverse proxies stand in front (the gateway: 1); their X-Forwarded-* headers are trusted, no one else's. Behind a TLS-terminating proxy that sends `X-Forwarded-Proto: https`, the web front's session cookie is then `Secure`.", int),
    Setting("RATE_LIMIT_STORAGE_URL", "memory://", "Where rate-limit counters live: `memory://` (per process) or `redis://host:6379/1` (shared)."),
    Setting("TOKEN_RATE_LIMIT", "30/minute", "Token requests allowed per client address (`POST /api/registry/tokens`); more get 429."),
    Setting("FACTOR_RATE_LIMIT", "5/minute;20/hour", "Wrong second-factor answers (a code, a recovery code, a passkey) allowed per API key; more get 429 with Retry-After, right answers included."),
    Setting("REGISTRY_FACTOR_KEY", "", "Fernet key that seals the authenticator-app (TOTP) secrets in the registry's database; empty: one is made and kept in `<DOA_VAR_DIR>/registry-factor.key`. Every registry process must share it; keep it out of database backups."),
    Setting("REGISTRY_SESSION_HOURS", "12", "How long a sign-in session of the registry (key and second factor) makes fresh tokens; its holder can end it sooner.", int),
    Setting("SUBSCRIBE_RATE_LIMIT", "10/minute", "Subscriptions allowed per client address (`POST /api/notify/subscriptions`): each sends a confirmation e-mail."),
    Setting("PARTICIPATE_RATE_LIMIT", "10/minute", "Sign-ups allowed per client address (`POST /api/notify/events/{id}/participants`), counted in expiring counters: no address is stored."),
    Setting("PARTICIPATION_KEEP_DAYS", "14", "Days after an event ends that its sign-ups (names, addresses) are kept; then they are shredded and only the counts stay. A campaign may set its own (`participation_keep_days`).", int),
    Setting("MAX_CONTENT_LENGTH", "1048576", "Largest JSON request body in bytes; larger gets 413.", int),
    Setting("MEDIA_STORAGE_URL", "", "Where media files are kept: empty for `<DOA_VAR_DIR>/media`, `file:///path`, or `s3://bucket/prefix` (an S3-compatible store, see `S3_*`)."),
    Setting("S3_ENDPOINT_URL", "", "The S3-compatible store's address (e.g. `http://minio:9000`); empty: AWS."),
    Setting("S3_REGION", "us-east-1", "The store's region."),
    Setting("S3_ACCESS_KEY_ID", "", "Access key for the store (empty: boto3's usual sources)."),
    Setting("S3_SECRET_ACCESS_KEY", "", "Secret key for the store."),
    Setting("MEDIA_MAX_PHOTO_BYTES", "31457280", "Largest photo upload (30 MB); more gets 413 while it streams in.", int),
    Setting("MEDIA_MAX_VIDEO_BYTES", "2147483648", "Largest video upload (2 GB).", int),
    Setting("MEDIA_MAX_AUDIO_BYTES", "104857600", "Largest audio upload (100 MB).", int),
    Setting("MEDIA_MAX_DOCUMENT_BYTES", "52428800", "Largest document upload (50 MB).", int),
    Setting("MEDIA_UPLOAD_EXPIRY_HOURS", "24", "An unfinished resumable upload is deleted this long after it was created.", int),
    Setting("FFMPEG", "ffmpeg", "The ffmpeg command; without it videos and songs are kept unprocessed and never published."),
    Setting("PUBLIC_URL", "http://127.0.0.1:8000", "The platform's address as people reach it: links in e-mails (confirm, unsubscribe, erase) start with it (`doa run`: its own address unless set). Passkeys are bound to it: its host is the WebAuthn relying party id (a name such as `localhost`, never an IP address) and its scheme, host and port the only origin accepted."),
    Setting("NOTIFY_LINK_SECRET", "", "Secret that signs the links in e-mails; empty: generate one and keep it in notify's database."),
    Setting("NOTIFY_CONFIRM_HOURS", "48", "A subscription not confirmed within this many hours is deleted (and its link expires).", int),
    Setting("NOTIFY_RETENTION_DAYS", "90", "Days after a campaign closes until its subscribers' data is purged.", int),
    Setting("MAIL_FROM", "dayofaction <noreply@dayofaction.invalid>", "Sender of every e-mail."),
    Setting("SMTP_HOST", "", "SMTP server; empty: write each e-mail as an `.eml` file under `<DOA_VAR_DIR>/mail/` instead of sending it."),
    Setting("MAIL_FILES_KEEP_DAYS", "7", "Days an e-mail written as an `.eml` file (no `SMTP_HOST`) is kept; the files of an erased address go at once.", int),
    Setting("SMTP_PORT", "587", "SMTP port.", int),
    Setting("SMTP_SECURITY", "starttls", "`starttls`, `tls` (implicit, port 465) or `none`."),
    Setting("SMTP_USERNAME", "", "SMTP login (empty: none)."),
    Setting("SMTP_PASSWORD", "", "SMTP password."),
    Setting("SMTP_TIMEOUT", "30", "Seconds before an SMTP operation counts as failed.", float),
    Setting("SMTP_PER_SECOND", "0", "Most e-mails sent per second (0: as fast as the server takes them).", float),
    Setting("SMTP_BATCH", "100", "E-mails sent over one SMTP connection before it is renewed.", int),
    Setting("NOTIFY_CLAIM_LEASE_SECONDS", "30", "An e-mail or webhook delivery taken by a worker that then died is taken up again after this many seconds; a live worker renews its claims every third of this while it sends.", int),
    Setting("DELIVERY_LOG_KEEP_DAYS", "30", "Days a finished webhook delivery (delivered or failed, with its attempts) and a sent or failed e-mail's record are kept; notify's worker prunes older ones.", float),
    Setting("WEBHOOK_HELD_MAX", "1000", "Messages held per disabled webhook endpoint for a backfill when it is switched on again; beyond this the oldest are dropped.", int),
    Setting("WEBHOOK_HELD_DAYS", "7", "Days a message is held for a disabled webhook endpoint (keep it below DELIVERY_LOG_KEEP_DAYS).", float),
    Setting("REMINDERS", "-1d@11:00,-2h", "When subscribers to an event are reminded, in the event's zone: `-1d@11:00` the day before at 11:00, `-2h` two hours before."),
    Setting("QUIET_HOURS", "22:00-08:00", "No reminder but the last reaches a subscriber in these hours of their own zone."),
    Setting("WEBHOOK_SCHEDULE", "0,5,300,1800,7200,18000,36000,50400,72000,86400", "Seconds before each webhook attempt (Standard Webhooks' schedule; jitter is added); after the last, the endpoint is disabled.", str),
    Setting("WEBHOOK_ALLOW", "", "Comma-separated networks or host names webhooks may reach although they are private (e.g. `127.0.0.0/8` for tests and private deployments)."),
    Setting("WEBHOOK_CONNECT_TIMEOUT", "5", "Seconds to connect to a webhook endpoint.", float),
    Setting("WEBHOOK_READ_TIMEOUT", "10", "Seconds to wait for a webhook endpoint's answer.", float),
    Setting("WEBHOOK_CONCURRENCY", "16", "Webhook deliveries made at once.", int),
    Setting("WEB_API_URL", "", "Where the web front on its own (`services.web.wsgi`) reaches the APIs: each service's address, `registry=http://127.0.0.1:8101,events=…,media=…,notify=…` (so the services, trusting one proxy hop, see the visitor it names), or one base URL serving every `/api/<service>/` (then rate limits count the web front as one client). Unused by `make run`."),
    Setting("WEB_SECRET_KEY", "", "Fernet key (`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`) that seals the web front's session cookies; empty: one is made and kept in `<DOA_VAR_DIR>/web-secret.key`. Every web process must share it."),
    Setting("WEB_SESSION_HOURS", "12", "How long a sign-in to the web front lasts; signing out ends it at once, copies of its cookie included (their ids are kept in `<DOA_VAR_DIR>/web-sessions.sqlite`).", int),
    Setting("LOG_LEVEL", "INFO", "Python log level."),
    Setting("LOG_FORMAT", "json", "`json` (one object a line) or `text`."),
)

_BY_NAME = {s.name: s for s in SETTINGS}


class Config:
    """A snapshot of the settings; `overrides` win over the environment (tests use them)."""

    def __init__(self, environ: Mapping[str, str] | None = None, **overrides: Any):
        env = os.environ if environ is None else environ
        self._values: dict[str, Any] = {}
        for s in SETTINGS:
            raw = env.get(s.name, s.default)
            self._values[s.name] = s.cast(raw) if raw != "" or s.cast is str else s.cast(s.default)
        for key, value in overrides.items():
            if key not in _BY_NAME:
                raise KeyError(f"unknown setting {key}")
            self._values[key] = value

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def replace(self, **overrides: Any) -> "Config":
        new = Config(environ={})
        new._values = {**self._values, **overrides}
        return new

    @property
    def var_dir(self) -> Path:
        return Path(self.DOA_VAR_DIR)

    def database_url(self, service: str) -> str:
        url = self._values.get(f"{service.upper()}_DATABASE_URL") or ""
        if url:
            return url
        path = self.var_dir.resolve() / f"{service}.db"
        return f"sqlite:///{path}"


def settings_table() -> str:
    """The README's configuration table, in Markdown."""
    rows = ["| variable | default | what it does |", "| --- | --- | --- |"]
    for s in SETTINGS:
        default = f"`{s.default}`" if s.default else "(empty)"
        rows.append(f"| `{s.name}` | {default} | {s.help} |")
    return "\n".join(rows)
