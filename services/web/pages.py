"""What every signed-in page shares: who may see it, and how an action's outcome is shown
(back to /me, or the API's refusal as a page)."""
from __future__ import annotations

from functools import wraps
from uuid import UUID

from flask import abort, flash, g, redirect, render_template, request, url_for

from services.web.client import ApiError
from shared.http.problems import problem_response


def signed_in(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if g.get("account_error") is not None:  # signed in, but the registry cannot say as whom now
            raise g.account_error
        if g.get("role") is None:
            return redirect(url_for("account.signin", next=request.path))
        return view(*args, **kwargs)
    return wrapper


def coordinators_only() -> None:
    if g.role != "coordinator":
        abort(403)


def coordinators_area() -> None:
    """Every view of a coordinators' blueprint (`bp.before_request(coordinators_area)`): anyone
    else signed in is refused; whoever is not signed in is sent to sign in (`signed_in`)."""
    if g.get("role") is not None:
        coordinators_only()


def organisations_only() -> None:
    if g.role != "organisation":
        abort(403)


def act(call, to: str = "/me", done: str | None = None):
    """Do what a form asked through the API; back to `to` (which then says `done`, a key of
    the catalogue's done_* words: never text from the request), or the API's refusal as a page."""
    try:
        call()
    except ApiError as exc:
        return refusal_page(exc)
    if done:
        flash(done, "done")
    return redirect(to, 303)


def wants_a_page() -> bool:
    """A browser (it prefers HTML): else a program (curl, a script), which gets problem+json."""
    return request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html" and \
        request.accept_mimetypes.accept_html


def refusal_page(exc: ApiError):
    """The API's refusal, with its status — a page naming the fields and why (or its detail)
    for a browser, problem+json for a program. A service's own failure is a 502 (504 when it
    was too slow) here: the web front stood between."""
    status = exc.status if exc.status < 500 else (504 if exc.status == 504 else 502)
    problem_errors = exc.problem.get("errors") or []
    if not wants_a_page():
        return problem_response(status, exc.problem.get("detail") or str(exc), errors=problem_errors or None)
    errors = "; ".join(f"{e.get('field')}: {e.get('message')}" for e in problem_errors)
    return render_template("message.html", title=exc.problem.get("title", "Error"),
                           text=errors or exc.problem.get("detail", "")), status


def field_errors(exc: ApiError) -> dict[str, str]:
    """The API's errors by form field (`title.en` is the title's field), to show beside them;
    under "" what names no field."""
    errors: dict[str, str] = {}
    for error in exc.problem.get("errors", []):
        errors.setdefault((error.get("field") or "").split(".")[0], error.get("message") or "")
    return errors or {"": exc.problem.get("detail") or str(exc)}


def optional(call, default=()):
    """A section another service may not be able to give yet (or at all): the page goes on."""
    try:
        return call()
    except ApiError:
        return default if isinstance(default, dict) else list(default)


def uuid_or_none(text: str) -> str | None:
    """A form's id, checked before it becomes part of an API path (never as typed)."""
    try:
        return str(UUID(text))
    except ValueError:
        return None
