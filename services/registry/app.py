"""Builds the registry service."""
from __future__ import annotations

from pathlib import Path

from flask import Flask

from shared.config import Config
from shared.http.app import create_service_app
from shared.kernel import Kernel, build_kernel
from services.registry import api
from services.registry.handlers import HANDLERS
from services.registry.models import metadata
from services.registry.tokens import Signer

NAME = "registry"
MIGRATIONS = str(Path(__file__).parent / "migrations")


def build(config: Config | None = None) -> tuple[Kernel, Signer]:
    config = config or Config()
    signer_box: list[Signer] = []
    # The registry verifies its own tokens with its own keys, without HTTP.
    kernel = build_kernel(NAME, config, metadata, MIGRATIONS, jwks=lambda: signer_box[0].jwks())
    signer = Signer(kernel.db, config.TOKEN_ISSUER, config.TOKEN_TTL_SECONDS, config.REGISTRY_SIGNING_KEY)
    signer_box.append(signer)
    kernel.handlers = dict(HANDLERS)
    return kernel, signer


def create_app(config: Config | None = None, kernel: Kernel | None = None,
               signer: Signer | None = None) -> Flask:
    if kernel is None:
        kernel, signer = build(config)
    app = create_service_app(kernel, [api.organisations, api.coordinators, api.tokens],
                             title="dayofaction registry", migrations=MIGRATIONS,
                             description="Organisations, coordinators, API keys and signed tokens.")
    app.extensions["doa.signer"] = signer
    return app
