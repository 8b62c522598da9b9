"""Errors a service's use cases raise; the HTTP layer answers each as problem+json."""
from __future__ import annotations


class DomainError(Exception):
    status = 400
    type_ = "bad-request"
    headers: dict[str, str] = {}

    def __init__(self, detail: str, type_: str | None = None, **extra):
        """`type_` names the problem more precisely than the class does (docs/api.md)."""
        super().__init__(detail)
        self.detail = detail
        self.extra = extra
        if type_ is not None:
            self.type_ = type_


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
    """Well-formed input that breaks a rule a schema cannot state (about several fields, or
    the state of things). Its type is not `validation`: that one says the input is malformed."""

    status = 422
    type_ = "rule"


class NotYetKnown(DomainError):
    """A reference the platform made a moment ago that this service has not heard of yet:
    its own lag, never the caller's mistake."""

    status = 503
    type_ = "not-yet-known"
    headers = {"Retry-After": "1"}
