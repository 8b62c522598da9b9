"""The links in e-mails, under /api/notify: confirm a subscription, unsubscribe (RFC 8058 one
click), erase everything held about an address. They answer HTML pages, for people: GET shows
a button (mail scanners follow links, only people press buttons), POST acts."""
from __future__ import annotations

from flask import Response, render_template_string, request
from sqlalchemy.orm import Session

from services.notify import participation
from services.notify import subscriptions as subs
from services.notify.links import BadLink, ExpiredLink, Links, link_secret
from services.notify.mail.messages import message
from services.notify.mail.render import supported_language
from services.notify.models import Subscription
from shared.http.app import accepts_any_body
from shared.http.problems import ProblemSchema
from shared.http.routes import Blueprint, MethodView, kernel
from shared.languages import DEFAULT, LANGUAGES, RIGHT_TO_LEFT

links_blp = Blueprint("links", __name__, url_prefix="",
                      description="The links in e-mails: confirm, unsubscribe (RFC 8058 one-click), erase.")

# A page for a person on a phone, in the reader's language; buttons big enough for a thumb.
PAGE = """<!doctype html>
<html lang="{{ lang }}" dir="{{ dir }}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{{ title }}</title>
<style>
body { font-family: system-ui, Tahoma, sans-serif; max-width: 36rem; margin: 2rem auto; padding: 0 1rem;
       line-height: 1.6; color: #1a1a1a; overflow-wrap: anywhere; }
button, .button { display: inline-block; box-sizing: border-box; min-height: 44px; padding: .6rem 1.4rem;
                  font: inherit; font-weight: 600; border-radius: .4rem; border: 2px solid #7a1015;
                  background: #a3151b; color: #fff; text-decoration: none; cursor: pointer; }
.button { background: #fff; color: #7a1015; }
</style></head>
<body><main><h1>{{ title }}</h1><p>{{ text }}</p>
{% if action %}<form method="post" action="{{ action }}">
<input type="hidden" name="List-Unsubscribe" value="One-Click">
<button type="submit">{{ button }}</button></form>{% endif %}
{% if more %}<p><a class="button" href="{{ more[1] }}">{{ more[0] }}</a></p>{% endif %}
</main></body></html>"""

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


def reader_language(session: Session | None = None, subscription_id: str | None = None) -> str:
    """The language of the subscription the link names, else the browser's first we speak."""
    subscription = session.get(Subscription, subscription_id) if session and subscription_id else None
    if subscription is not None:
        return supported_language(subscription.language)
    return request.accept_languages.best_match(list(LANGUAGES)) or DEFAULT


def page(status: int, language: str, name: str, action: str | None = None,
         more: tuple[str, str] | None = None) -> Response:
    """The page `name` (its title, text and button in notify's catalogue, `page.<name>.*`);
    `more`: a link after it (label, URL)."""
    def t(part: str) -> str:
        return message(language, f"page.{name}.{part}")

    body = render_template_string(PAGE, lang=language, dir="rtl" if language in RIGHT_TO_LEFT else "ltr",
                                  title=t("title"), text=t("text"), action=action,
                                  button=t("button") if action else None, more=more)
    return Response(body, status=status, content_type="text/html; charset=utf-8",
                    headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})


def _read_link(purpose: str):
    """What the link acts on, or the page that says why it cannot."""
    with kernel().db.transaction() as session:
        try:
            return links(session).read(purpose, request.args.get("token")), None
        except ExpiredLink:
            return None, page(410, reader_language(), "expired")
        except BadLink:
            return None, page(400, reader_language(), "invalid")


def _action() -> str:
    return f"{request.script_root}{request.path}?token={request.args.get('token', '')}"


class LinkPage(MethodView):
    """A page a link opens: GET asks (the page `ask`, with its button), changing nothing; POST
    `act`s on what the link names, in the language of the subscription it names."""

    purpose: str
    ask: str

    def get(self):
        return self.answer()

    def post(self):
        return self.answer()

    def asking(self, session: Session, subscription_id: str) -> str:
        return self.ask

    def act(self, session: Session, subscription_id: str, language: str) -> Response:
        raise NotImplementedError

    def answer(self) -> Response:
        subscription_id, refused = _read_link(self.purpose)
        if refused:
            return refused
        with kernel().db.transaction() as session:
            language = reader_language(session, subscription_id)
            if request.method == "GET":
                return page(200, language, self.asking(session, subscription_id), _action())
            return self.act(session, subscription_id, language)


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


@link_route("/subscriptions/confirmation", "A button that confirms the subscription (or the sign-up behind "
            "it).\n\nMail scanners follow links; only a person presses the button.", "Confirm the subscription.")
class Confirmation(LinkPage):
    purpose, ask = "confirm", "confirm"

    def asking(self, session: Session, subscription_id: str) -> str:
        return "confirm_participation" if subs.sign_up_of(session, subscription_id) else "confirm"

    def act(self, session: Session, subscription_id: str, language: str) -> Response:
        if subs.confirm(session, subscription_id) is None:
            return page(410, language, "gone")
        participation.confirmed(session, kernel().outbox, subscription_id)  # a sign-up behind it takes its places
        signed_up = subs.sign_up_of(session, subscription_id)
        if signed_up is None:
            return page(200, language, "confirmed")
        return page(200, language, "confirmed_participation",
                    more=(message(language, "link.participation"), links(session).participation_url(signed_up)))


@link_route("/unsubscribe", "A button that unsubscribes.", "Unsubscribe, in one click (RFC 8058).\n\nMail "
            "programs POST `List-Unsubscribe=One-Click` here.")
class Unsubscribe(LinkPage):
    purpose, ask = "unsubscribe", "unsubscribe"

    def act(self, session: Session, subscription_id: str, language: str) -> Response:
        subs.unsubscribe(session, subscription_id)
        return page(200, language, "unsubscribed")


@link_route("/erasure", "A button that erases everything held about the address.", "Erase everything held "
            "about the address.\n\nIts subscriptions and sign-ups, what waits to be sent and the delivery log go.")
class Erasure(LinkPage):
    purpose, ask = "erase", "erase"

    def act(self, session: Session, subscription_id: str, language: str) -> Response:
        signed_up = subs.a_sign_up_of_address(session, subscription_id)
        if signed_up is not None:  # its sign-ups go too, with everything about the address (their counts stay)
            participation.erase(session, kernel().outbox, signed_up)
        else:
            subs.erase(session, subscription_id)
        return page(200, language, "erased")
