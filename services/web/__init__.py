"""The web front: pages for the public, organisations and coordinators, rendered from the
other services' HTTP APIs (never their databases)."""
