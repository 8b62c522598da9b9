"""The links in e-mails, under /api/notify: confirm a subscription, unsubscribe (RFC 8058 one
click), erase everything held about an address. They answer HTML pages, for people: GET shows
a button (mail scanners follow links, only people press buttons), POST acts."""
from __future__ import annotations

from typing import Callable

from flask import Response, render_template_string, request
from flask_smorest import Blueprint
from sqlalchemy.orm import Session

from services.notify import subscriptions as subs
from services.notify.links import BadLink, ExpiredLink, Links, link_secret
from shared.http.app import accepts_any_body
from shared.http.problems import ProblemSchema
from shared.kernel import current_kernel as kernel

links_blp = Blueprint("links", __name__, url_prefix="",
                      description="The links in e-mails: confirm, unsubscribe (RFC 8058 one-click), erase.")

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{{ title }}</title></head>
<body style="font-family: sans-serif; max-width: 36rem; margin: 2rem auto; padding: 0 1rem">
<h1>{{ title }}</h1><p>{{ text }}</p>
{% if action %}<form method="post" action="{{ action }}">
<input type="hidden" name="List-Unsubscribe" value="One-Click">
<button type="submit">{{ button }}</button></form>{% endif %}
</body></html>"""

# The signed token every link in an e-mail carries (a bad or missing one: an HTML page saying so).
LINK_TOKEN = {"in": "query", "name": "token", "required": True, "schema": {"type": "string"},
              "description": "The signed token from the e-mail's link."}
HTML = {"type": "string", "description": "An HTML page for a person."}
HTML_TYPE = "text/html"
REFUSED = "The link is not valid (cut or changed): an HTML page. An unknown query parameter: a problem."


def links(session) -> Links:
    return Links(link_secret(session, kernel().config), kernel().config)


def link_page(view):
    """A link's view as the document states it: the token in the query, any body taken (RFC
    8058's one-click form), and HTML pages answered: 200, 400 for a changed link (or, as
    problem+json, an unknown query parameter), 410 for an expired one or a subscription gone."""
    for decorate in (
        links_blp.alt_response(410, schema=HTML, content_type=HTML_TYPE,
                               description="The link expired, or what it acts on is gone."),
        links_blp.alt_response(400, schema=ProblemSchema, content_type="application/problem+json",
                               description=REFUSED),
        links_blp.alt_response(400, schema=HTML, content_type=HTML_TYPE, description=REFUSED),
        links_blp.response(200, HTML, content_type=HTML_TYPE, description="An HTML page."),
        links_blp.doc(parameters=[LINK_TOKEN]),
        accepts_any_body,
    ):
        view = decorate(view)
    return view


def page(status: int, title: str, text: str, action: str | None = None, button: str | None = None) -> Response:
    body = render_template_string(PAGE, title=title, text=text, action=action, button=button)
    return Response(body, status=status, content_type="text/html; charset=utf-8",
                    headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})


def _read_link(purpose: str):
    """What the link acts on, or the page that says why it cannot."""
    with kernel().db.transaction() as session:
        try:
            return links(session).read(purpose, request.args.get("token")), None
        except ExpiredLink as exc:
            return None, page(410, "This link has expired", exc.detail)
        except BadLink as exc:
            return None, page(400, "This link is not valid", exc.detail)


def _action() -> str:
    return f"{request.script_root}{request.path}?token={request.args.get('token', '')}"


def _answer(purpose: str, ask: tuple[str, str, str], act: Callable[[Session, str], Response]) -> Response:
    """GET: the page asking (title, text, button); POST: `act` on what the link names."""
    subscription_id, refused = _read_link(purpose)
    if refused:
        return refused
    if request.method == "GET":
        title, text, button = ask
        return page(200, title, text, _action(), button)
    with kernel().db.transaction() as session:
        return act(session, subscription_id)


@links_blp.route("/subscriptions/confirmation", methods=["GET", "POST"])
@link_page
def confirmation():
    """GET shows a button (mail scanners follow links; only a person presses it); POST
    confirms the subscription."""

    def confirm(session: Session, subscription_id: str) -> Response:
        if subs.confirm(session, subscription_id) is None:
            return page(410, "This subscription is gone", "It was not confirmed in time. Subscribe again.")
        return page(200, "Subscribed", "You will receive what you asked for. Every e-mail has a link to stop them.")

    return _answer("confirm", ("Confirm your subscription", "Press the button to start receiving e-mails.",
                               "Confirm"), confirm)


@links_blp.route("/unsubscribe", methods=["GET", "POST"])
@link_page
def unsubscribe():
    """One click (RFC 8058: mail programs POST `List-Unsubscribe=One-Click` here); GET shows
    a button."""

    def stop(session: Session, subscription_id: str) -> Response:
        subs.unsubscribe(session, subscription_id)
        return page(200, "Unsubscribed", "You will receive no more of these e-mails.")

    return _answer("unsubscribe", ("Unsubscribe", "Press the button and you will receive no more of these e-mails.",
                                   "Unsubscribe"), stop)


@links_blp.route("/erasure", methods=["GET", "POST"])
@link_page
def erasure():
    """Erase everything held about the address: its subscriptions, what waits to be sent and
    the delivery log. GET shows a button."""

    def erase(session: Session, subscription_id: str) -> Response:
        subs.erase(session, subscription_id)
        return page(200, "Erased", "Nothing about this address is kept any more.")

    return _answer("erase", ("Erase your address", "Press the button and we erase every subscription of this "
                                                   "address and every record of e-mails sent to it.", "Erase"), erase)
