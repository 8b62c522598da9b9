"""What a service declares about itself, and the two functions every service offers:
`build` (its kernel: database, outbox, verifier, handlers) and `create_app` (its Flask app)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from flask import Flask
from sqlalchemy import MetaData

from shared.auth import JwksSource
from shared.bus.handlers import Handlers
from shared.config import Config
from shared.http.app import create_service_app
from shared.kernel import Kernel, build_kernel
from shared.logs import configure_logging


@dataclass
class ServiceSpec:
    name: str
    title: str
    description: str
    metadata: MetaData
    migrations: str
    blueprints: Callable[[], list]
    # What the service handles (shared.bus.handlers): its consumer's map is built from it, and
    # the composition roots derive its queue's bindings from it (shared.bus.topology).
    handlers: Handlers = field(default_factory=Handlers)
    # The service's bootstrap, called with the new kernel: builds its dependencies
    # (`kernel.provide(storage=…)`) and background loops.
    on_build: Callable[[Kernel], None] | None = field(default=None)

    def build(self, config: Config | None = None, jwks: JwksSource | None = None) -> Kernel:
        kernel = build_kernel(self.name, config or Config(), self.metadata, self.migrations, jwks)
        if self.on_build is not None:
            self.on_build(kernel)
        # After the bootstrap: handlers get what it provides as named parameters.
        kernel.handlers = self.handlers.map(kernel.dependencies)
        return kernel

    def create_app(self, config: Config | None = None, kernel: Kernel | None = None,
                   jwks: JwksSource | None = None) -> Flask:
        if kernel is None and config is None:
            # A process of its own (gunicorn's `create_app()`): its lines as configured, and
            # through the handler that keeps addresses out of them.
            config = Config()
            configure_logging(config.LOG_LEVEL, config.LOG_FORMAT)
        kernel = kernel or self.build(config, jwks)
        return create_service_app(kernel, self.blueprints(), title=self.title,
                                  description=self.description, migrations=self.migrations)
