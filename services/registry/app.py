"""Builds the registry service."""
from __future__ import annotations

from pathlib import Path

from services.registry import account_api, api, audit_api, keys_api, signin_sessions, tokens_api
from services.registry.handlers import handles
from services.registry.models import metadata
from services.registry.passkeys import RelyingParty
from services.registry.tokens import Signer
from services.registry.totp import Sealer
from shared.auth import JwksSource
from shared.config import Config
from shared.kernel import Kernel
from shared.service import ServiceSpec


def _attach_signer(kernel: Kernel) -> None:
    c = kernel.config
    signer = Signer(kernel.db, c.TOKEN_ISSUER, c.TOKEN_TTL_SECONDS, c.REGISTRY_SIGNING_KEY)
    kernel.provide(signer=signer, sealer=Sealer(c.REGISTRY_FACTOR_KEY, c.var_dir),
                   relying_party=RelyingParty.of(c.PUBLIC_URL), about_caller=account_api.about_caller)
    # The registry verifies tokens with its own keys, without asking itself over HTTP.
    kernel.verifier.jwks = signer.jwks
    kernel.verifier.session_ended = lambda session_id: _session_ended(kernel, session_id)


def _session_ended(kernel: Kernel, session_id: str) -> bool:
    """An ended sign-in session's tokens are refused here at once (the web asks /me each page)."""
    with kernel.db.transaction() as session:
        return signin_sessions.is_ended(session, session_id)


SPEC = ServiceSpec(
    name="registry", title="dayofaction registry",
    description="Organisations, coordinators, API keys and signed tokens.",
    metadata=metadata, migrations=str(Path(__file__).parent / "migrations"),
    blueprints=lambda: [api.organisations, keys_api.coordinators, tokens_api.tokens, audit_api.blueprint,
                        account_api.account],
    handlers=handles, on_build=_attach_signer,
)


def build(config: Config | None = None, jwks: JwksSource | None = None) -> Kernel:
    return SPEC.build(config, jwks=jwks or (lambda: {"keys": []}))


def create_app(config: Config | None = None, kernel: Kernel | None = None):
    return SPEC.create_app(kernel=kernel or build(config))
