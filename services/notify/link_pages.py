"""The links in e-mails, under /api/notify: confirm a subscription, unsubscribe (RFC 8058 one
click), erase everything held about an address. They answer HTML pages, for people: GET shows
a button (mail scanners follow links, only people press buttons), POST acts."""
from __future__ import annotations

from flask import Response, render_template_string, request
from sqlalchemy.orm import Session

from services.notify import participation
from services.notify import subscriptions as subs
from services.notify.links import BadLink, ExpiredLink, Links, link_secret
from shared.http.app import accepts_any_body
from shared.http.problems import ProblemSchema
from shared.http.routes import Blueprint, MethodView, kernel

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
# What the page's button sends, as mail programs do for RFC 8058's one click; nothing of it is read.
BUTTON = {"required": False, "content": {"application/x-www-form-urlencoded": {"schema": {
    "type": "object", "properties": {"List-Unsubscribe": {"type": "string", "enum": ["One-Click"]}}}}}}
REFUSED = "The link is not valid (cut or changed): an HTML page. An unknown query parameter: a problem."


def links(session) -> Links:
    """The service's links; their secret read once per process (it never changes while it runs)."""
    known = kernel().dependencies
    if "link_secret" not in known:
        known["link_secret"] = link_secret(session, kernel().config)
    return Links(known["link_secret"], kernel().config)


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


class LinkPage(MethodView):
    """A page a link opens: GET asks (`ask`: title, text, button), changing nothing; POST
    `act`s on what the link names."""

    purpose: str
    ask: tuple[str, str, str]

    def get(self):
        return self.answer()

    def post(self):
        return self.answer()

    def act(self, session: Session, subscription_id: str) -> Response:
        raise NotImplementedError

    def answer(self) -> Response:
        subscription_id, refused = _read_link(self.purpose)
        if refused:
            return refused
        if request.method == "GET":
            title, text, button = self.ask
            return page(200, title, text, _action(), button)
        with kernel().db.transaction() as session:
            return self.act(session, subscription_id)


def link_route(path: str, asks: str, acts: str):
    """Registers a LinkPage at `path`, its GET documented as `asks` and its POST as `acts`."""

    def register(cls: type[LinkPage]) -> type[LinkPage]:
        def get(self):
            return self.answer()

        def post(self):
            return self.answer()

        get.__doc__, post.__doc__ = asks, acts
        cls.get, cls.post = link_page(get), link_page(links_blp.doc(requestBody=BUTTON)(post))
        return links_blp.route(path)(cls)

    return register


@link_route("/subscriptions/confirmation", "A button that confirms the subscription.\n\nMail scanners follow "
            "links; only a person presses the button.", "Confirm the subscription.")
class Confirmation(LinkPage):
    purpose, ask = "confirm", ("Confirm your subscription", "Press the button to start receiving e-mails.", "Confirm")

    def act(self, session: Session, subscription_id: str) -> Response:
        if subs.confirm(session, subscription_id) is None:
            return page(410, "This subscription is gone", "It was not confirmed in time. Subscribe again.")
        participation.confirmed(session, kernel().outbox, subscription_id)  # a sign-up behind it takes its places
        return page(200, "Subscribed", "You will receive what you asked for. Every e-mail has a link to stop them.")


@link_route("/unsubscribe", "A button that unsubscribes.", "Unsubscribe, in one click (RFC 8058).\n\nMail "
            "programs POST `List-Unsubscribe=One-Click` here.")
class Unsubscribe(LinkPage):
    purpose, ask = "unsubscribe", ("Unsubscribe", "Press the button and you will receive no more of these e-mails.",
                                   "Unsubscribe")

    def act(self, session: Session, subscription_id: str) -> Response:
        subs.unsubscribe(session, subscription_id)
        return page(200, "Unsubscribed", "You will receive no more of these e-mails.")


@link_route("/erasure", "A button that erases everything held about the address.", "Erase everything held "
            "about the address.\n\nIts subscriptions, what waits to be sent and the delivery log go.")
class Erasure(LinkPage):
    purpose, ask = "erase", ("Erase your address", "Press the button and we erase every subscription of this "
                                                   "address and every record of e-mails sent to it.", "Erase")

    def act(self, session: Session, subscription_id: str) -> Response:
        subs.erase(session, subscription_id)
        return page(200, "Erased", "Nothing about this address is kept any more.")
