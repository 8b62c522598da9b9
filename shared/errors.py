"""Errors a service's use cases raise; the HTTP layer answers each as problem+json."""
from __future__ import annotations


class DomainError(Exception):
    status = 400
    type_ = "bad-request"
    headers: dict[str, str] = {}

    def __init_subclass__(cls, status: int | None = None, type_: str | None = None, **kwargs):
        """A subclass states its status and problem type in its head: `class NotFound(DomainError,
        status=404, type_="not-found")`."""
        super().__init_subclass__(**kwargs)
        if status is not None:
            cls.status = status
        if type_ is not None:
            cls.type_ = type_

    def __init__(self, detail: str, type_: str | None = None, **extra):
        """`type_` names the problem more precisely than the class does (docs/api.md)."""
        super().__init__(detail)
        self.detail = detail
        self.extra = extra
        if type_ is not None:
            self.type_ = type_


class NotFound(DomainError, status=404, type_="not-found"):
    """Nothing of that id, or nothing the caller may see."""


class Conflict(DomainError, status=409, type_="conflict"):
    """The state of things does not allow it (a duplicate, a decision already made)."""


class Forbidden(DomainError, status=403, type_="forbidden"):
    """The caller is known but may not do this."""


class Unauthenticated(DomainError, status=401, type_="unauthenticated"):
    """No valid credentials came with the request."""


class Invalid(DomainError, status=422, type_="rule"):
    """Well-formed input that breaks a rule a schema cannot state (about several fields, or
    the state of things). Its type is not `validation`: that one says the input is malformed."""


class Malformed(DomainError, status=422, type_="validation"):
    """Input that is not what the document says, where no schema reads it (a header, a path
    segment): as a schema's refusal, naming the field and where it is."""


class NotYetKnown(DomainError, status=503, type_="not-yet-known"):
    """A reference the platform made a moment ago that this service has not heard of yet:
    its own lag, never the caller's mistake."""

    headers = {"Retry-After": "1"}
