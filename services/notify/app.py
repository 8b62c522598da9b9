"""Builds the notify service."""
from __future__ import annotations

from pathlib import Path

from services.notify import api, forgetting, link_pages, participation_api, wakeups, webhooks_api
from services.notify.handlers import handles
from services.notify.mail.files import mail_folder
from services.notify.mail_dispatch import MailDispatcher
from services.notify.models import metadata
from services.notify.webhook_dispatch import WebhookDispatcher
from shared.kernel import Kernel
from shared.service import ServiceSpec


def _on_build(kernel: Kernel) -> None:
    wakeups.install(kernel.db)
    forgetting.install(kernel.db, mail_folder(kernel.config))
    kernel.background.append(("mail", MailDispatcher(kernel).run_forever))
    kernel.background.append(("webhooks", WebhookDispatcher(kernel).run_forever))


SPEC = ServiceSpec(
    name="notify", title="dayofaction notify", description="Subscriptions, e-mail, webhooks and reminders.",
    metadata=metadata, migrations=str(Path(__file__).parent / "migrations"),
    blueprints=lambda: [api.subscriptions_blp, link_pages.links_blp, api.contacts_blp, webhooks_api.webhooks_blp,
                        api.problems_blp, participation_api.places_blp, participation_api.signup_blp],
    handlers=handles, on_build=_on_build,
)
build = SPEC.build
create_app = SPEC.create_app
