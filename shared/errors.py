"""Errors a service's use cases raise; the HTTP layer answers each as problem+json."""
from __future__ import annotations


class DomainError(Exception):
    status = 400
    type_ = "bad-request"

    def __init__(self, detail: str, **extra):
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class NotFound(DomainError):
    status = 404
    type_ = "not-found"


class Conflict(DomainError):
    status = 409
    type_ = "conflict"


class Forbidden(DomainError):
    status = 403
    type_ = "forbidden"


class Unauthenticated(DomainError):
    status = 401
    type_ = "unauthenticated"


class Invalid(DomainError):
    """A rule about several fields that a schema cannot check alone."""

    status = 422
    type_ = "validation"
