"""second factors (authenticator apps, recovery codes, passkeys) and sign-in sessions"""
from shared.migrations import bigint, json, new_tables, string, table, text, utc, uuid

revision = "0004"
down_revision = "0003"
upgrade, downgrade = new_tables(
    table("totp_factors", string(20, "holder_kind"), uuid("holder_id"), text("secret_sealed"), bigint("last_step"),
          utc("created_at", "confirmed_at?"), primary_key=("holder_kind", "holder_id")),
    table("recovery_codes", uuid("id"), string(20, "holder_kind"), uuid("holder_id"), string(64, "digest"),
          utc("created_at", "used_at?"), indexes={"ix_recovery_codes_holder": ("holder_kind", "holder_id")}),
    table("passkeys", uuid("id"), string(20, "holder_kind"), uuid("holder_id"), string(1400, "credential_id"),
          text("public_key"), bigint("sign_count"), string(100, "label"), utc("created_at", "last_used_at?"),
          unique={"uq_passkeys_credential": ("credential_id",)},
          indexes={"ix_passkeys_holder": ("holder_kind", "holder_id")}),
    table("factor_challenges", uuid("id"), string(20, "holder_kind"), uuid("holder_id"), string(20, "purpose"),
          string(200, "challenge"), utc("expires_at")),
    table("signin_sessions", uuid("id"), string(20, "holder_kind"), uuid("holder_id", "key_id"),
          string(64, "secret_digest"), json("amr"), string(100, "label"),
          utc("created_at", "last_used_at", "expires_at", "ended_at?"),
          unique={"uq_signin_sessions_secret": ("secret_digest",)},
          indexes={"ix_signin_sessions_holder": ("holder_kind", "holder_id", "created_at")}),
)
