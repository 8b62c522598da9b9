"""E-mail for the notify service: rendered in the reader's language, composed, and sent (or filed)."""
