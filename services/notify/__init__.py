"""The notify service: subscriptions, e-mail, webhooks, reminders (built on the foundation)."""
