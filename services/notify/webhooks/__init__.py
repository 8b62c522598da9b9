"""Webhooks: Standard Webhooks signing, the SSRF guard, one delivery attempt and the retry schedule."""
