"""What every signed-in page shares: who may see it, and how an action's outcome is shown
(back to /me, or the API's refusal as a page)."""
from __future__ import annotations

from functools import wraps

from flask import abort, g, redirect, render_template, request, url_for

from services.web.client import ApiError


def signed_in(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if g.get("role") is None:
            return redirect(url_for("account.signin", next=request.path))
        return view(*args, **kwargs)
    return wrapper


def coordinators_only() -> None:
    if g.role != "coordinator":
        abort(403)


def organisations_only() -> None:
    if g.role != "organisation":
        abort(403)


def act(call, to: str = "/me"):
    """Do what a form asked through the API; back to `to`, or the API's refusal shown as a page."""
    try:
        call()
    except ApiError as exc:
        return refusal_page(exc)
    return redirect(to, 303)


def refusal_page(exc: ApiError):
    """The API's refusal as a page, with its status: the fields it names and why, or its detail."""
    errors = "; ".join(f"{e.get('field')}: {e.get('message')}" for e in exc.problem.get("errors", []))
    return render_template("message.html", title=exc.problem.get("title", "Error"),
                           text=errors or exc.problem.get("detail", "")), exc.status


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
