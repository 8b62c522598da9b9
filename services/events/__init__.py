"""The events service: campaigns, the day of action, local events (built on the foundation)."""
