"""The notify service end to end in one process: a real SMTP server (aiosmtpd) and a real
webhook receiver on loopback; subscriptions with double opt-in, one-click unsubscribe and
erasure; e-mails to organisations and coordinators; signed webhooks with retries; exactly
once per recipient. SQLite and PostgreSQL."""
from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from services.notify.models import Erasures, KnownCampaign, KnownEvent, Notification, Subscription
from services.notify.webhooks.signing import verify
from tests.conftest import wait_until
from tests.integration.conftest import ApiClient
from tests.integration.test_finding_events import approved
from tests.integration.test_local_events_api import EVENTS, accepted_change, submit
from tests.integration.webhook_receiver import serve_webhooks

SUBSCRIPTIONS = "/api/notify/subscriptions"


class Receiver:
    """A webhook receiver: answers with the statuses it is given, then 200."""

    def __init__(self):
        self.requests: list[dict] = []
        self.answers: list[tuple[int, dict]] = []
        self.server = serve_webhooks(self._answer)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"

    def _answer(self, path: str, headers: dict, body: bytes) -> tuple[int, dict]:
        self.requests.append({"path": path, "headers": headers, "body": body})
        return self.answers.pop(0) if self.answers else (200, {})


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.server.shutdown()


@pytest.fixture(params=["sqlite", "postgres"])
def api(request, make_platform, mailbox):
    """The platform, its e-mail going to the test's SMTP server and its webhooks allowed to
    reach loopback on a fast retry schedule."""
    return ApiClient(make_platform(db=request.param, SMTP_HOST="127.0.0.1", SMTP_PORT=mailbox.port,
                                   SMTP_SECURITY="none", WEBHOOK_ALLOW="127.0.0.0/8", WEBHOOK_SCHEDULE="0,0.3,0.3",
                                   PUBLIC_URL="http://doa.test"))


def notify_kernel(api):
    return api.platform.kernels["notify"]


def count(api, model, *where) -> int:
    with notify_kernel(api).db.transaction() as s:
        return s.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def known_to_notify(api, event_id: str) -> bool:
    with notify_kernel(api).db.transaction() as s:
        event = s.get(KnownEvent, event_id)
        return event is not None and event.status == "approved"


def link_in(message, path: str) -> str:
    text = message.get_body(("plain",)).get_content()
    return next(word for word in text.split() if f"/api/notify/{path}?token=" in word).strip("<>()")


def local(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def confirmed_subscriber(api, mailbox, address: str, **fields) -> None:
    body = {"email": address, "language": "en", "scope": "country", "country": "KE", **fields}
    before = len(mailbox.to(address))
    response = api.post(SUBSCRIPTIONS, json=body)
    assert response.status_code == 202, response.json
    wait_until(lambda: len(mailbox.to(address)) > before, message="the confirmation e-mail")
    confirm = local(link_in(mailbox.to(address)[-1], "subscriptions/confirmation"))
    page = api.get(confirm)
    assert page.status_code == 200 and b"<form" in page.data  # a person presses the button; scanners do not
    assert api.post(confirm).status_code == 200


def test_nothing_but_the_confirmation_is_sent_until_the_link_is_followed(api, coordinator, setting, mailbox):
    address = "amina@example.org"
    api.post(SUBSCRIPTIONS, json={"email": address, "language": "sw", "scope": "country", "country": "KE"})
    wait_until(lambda: mailbox.to(address), message="the confirmation e-mail")
    first = approved(api, coordinator, setting)  # a Kenyan event, while the subscription waits
    wait_until(lambda: known_to_notify(api, first["id"]), message="notify to handle the approval")
    confirmation = mailbox.to(address)[0]
    assert "confirm" in confirmation["Subject"].lower() and confirmation["Content-Language"] == "en"
    assert count(api, Subscription, Subscription.status == "pending") == 1
    wait_until(lambda: count(api, Notification, Notification.status == "sent") >= 1)
    assert len(mailbox.to(address)) == 1  # the event was not told to an unconfirmed address

    confirm = local(link_in(confirmation, "subscriptions/confirmation"))
    assert api.post(confirm).status_code == 200
    event = approved(api, coordinator, setting, title={"en": "Rally at Uhuru Park"})
    wait_until(lambda: len(mailbox.to(address)) == 2, message="the new event's e-mail")
    news = mailbox.to(address)[1]
    text = news.get_body(("plain",)).get_content()
    assert "Rally at Uhuru Park" in text and "Africa/Nairobi" in text and "Uhuru Park, gate 2" not in text
    assert news["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/api/notify/unsubscribe?token=" in news["List-Unsubscribe"] and "/api/notify/erasure?token=" in text
    assert event["id"] in text


def test_one_click_unsubscribe_and_erasure_leave_nothing(api, coordinator, setting, mailbox):
    address = "li@example.org"
    confirmed_subscriber(api, mailbox, address)
    approved(api, coordinator, setting)
    wait_until(lambda: len(mailbox.to(address)) == 2, message="the new event's e-mail")
    news = mailbox.to(address)[1]
    one_click = local(news["List-Unsubscribe"].strip().strip("<>"))
    response = api.post(one_click, data="List-Unsubscribe=One-Click",
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert count(api, Subscription) == 0
    approved(api, coordinator, setting)
    assert len(mailbox.to(address)) == 2

    confirmed_subscriber(api, mailbox, address, scope="city", city="Nairobi")
    erase = local(link_in(mailbox.to(address)[-1], "erasure"))
    assert api.get(erase).status_code == 200 and count(api, Subscription) == 1
    assert api.post(erase).status_code == 200
    assert count(api, Subscription) == 0
    assert count(api, Notification, Notification.recipient.like("subscription:%")) == 0  # the log included
    with notify_kernel(api).db.transaction() as s:
        assert s.get(Erasures, 1).count == 1


def test_changed_or_expired_links_get_a_clear_page(api, mailbox, setting):
    address = "k@example.org"

    def campaign_known():
        with notify_kernel(api).db.transaction() as s:
            return s.get(KnownCampaign, setting["campaign"]["id"]) is not None

    wait_until(campaign_known, message="notify to know the campaign")
    assert api.post(SUBSCRIPTIONS, json={"email": address, "scope": "campaign",
                                         "campaign_id": setting["campaign"]["id"]}).status_code == 202
    wait_until(lambda: mailbox.to(address), message="the confirmation e-mail")
    url = local(link_in(mailbox.to(address)[0], "subscriptions/confirmation"))
    tampered = api.get(url[:-3] + ("AAA" if not url.endswith("AAA") else "BBB"))
    assert tampered.status_code == 400 and b"not valid" in tampered.data
    kernel = notify_kernel(api)
    kernel.config = kernel.config.replace(NOTIFY_CONFIRM_HOURS=-1)  # every confirmation link is now too old
    expired = api.get(url)
    assert expired.status_code == 410 and b"expired" in expired.data
    assert count(api, Subscription, Subscription.status == "confirmed") == 0


@pytest.mark.parametrize("body,field", [
    ({"email": "not-an-address", "scope": "country", "country": "KE"}, "email"),
    ({"email": "a@example.org", "scope": "galaxy"}, "scope"),
    ({"email": "a@example.org", "scope": "country"}, "country"),
    ({"email": "a@example.org", "scope": "campaign", "campaign_id": "00000000-0000-4000-8000-000000000000"},
     "campaign_id"),
    ({"email": "a@example.org", "scope": "event", "event_id": "00000000-0000-4000-8000-000000000000"}, "event_id"),
    ({"email": "a@example.org", "scope": "country", "country": "KE", "wants": ["spam"]}, "wants"),
])
def test_bad_subscriptions_are_refused_and_nothing_is_stored(api, setting, body, field):
    response = api.post(SUBSCRIPTIONS, json=body)
    assert response.status_code == 422, response.json
    assert field in {e["field"].split(".")[0] for e in response.json["errors"]}
    assert count(api, Subscription) == 0


def test_an_unsupported_language_falls_back_to_english(api, mailbox, setting):
    assert api.post(SUBSCRIPTIONS, json={"email": "p@example.org", "language": "pt", "scope": "country",
                                         "country": "BR"}).status_code == 202
    wait_until(lambda: mailbox.to("p@example.org"), message="the confirmation e-mail")
    assert mailbox.to("p@example.org")[0]["Content-Language"] == "en"


def test_organisations_and_coordinators_hear_what_concerns_them(api, coordinator, setting, mailbox):
    assert api.put("/api/notify/contacts/me", token=coordinator, json={"email": "office@coalition.example"}
                   ).status_code == 200
    assert api.put("/api/notify/contacts/me", token=setting["tokens"][0],
                   json={"email": "cpk@example.org", "language": "de"}).status_code == 200
    created = submit(api, setting).json
    wait_until(lambda: mailbox.to("office@coalition.example"), message="the coordinators' e-mail")
    api.post(f"{EVENTS}/{created['id']}/rejection", token=coordinator, json={"reason": "Venue unsafe"})
    wait_until(lambda: mailbox.to("cpk@example.org"), message="the organisation's e-mail")
    decision = mailbox.to("cpk@example.org")[0]
    assert decision["Content-Language"] == "de" and "Venue unsafe" in decision.get_body(("plain",)).get_content()
    assert "List-Unsubscribe" not in decision  # they are told as a matter of course, not subscribed


def _endpoint(api, token, receiver, types=("event.approved",)):
    response = api.post("/api/notify/webhooks", token=token, json={"url": receiver.url, "types": list(types)})
    assert response.status_code == 201, response.json
    return response.json


def test_webhooks_are_signed_retried_and_logged(api, coordinator, setting, receiver):
    token = setting["tokens"][0]
    receiver.answers = [(503, {"Retry-After": "0"})]
    endpoint = _endpoint(api, token, receiver)
    assert endpoint["secret"].startswith("whsec_")
    assert "secret" not in api.get(f"/api/notify/webhooks/{endpoint['id']}", token=token).json
    event = approved(api, coordinator, setting)
    wait_until(lambda: len(receiver.requests) == 2, message="a failed delivery and its retry")
    deliveries = f"/api/notify/webhooks/{endpoint['id']}/deliveries"
    wait_until(lambda: api.get(deliveries, token=token).json["items"][0]["status"] == "delivered",
               message="the retry to be logged")  # logged once its answer is back
    first, second = receiver.requests
    assert first["headers"]["webhook-id"] == second["headers"]["webhook-id"]  # receivers dedupe on it
    verify(endpoint["secret"], second["headers"], second["body"])
    envelope = json.loads(second["body"])
    assert envelope["type"] == "event.approved" and envelope["data"]["id"] == event["id"]
    log = api.get(f"/api/notify/webhooks/{endpoint['id']}/deliveries", token=token).json["items"]
    assert [a["status_code"] for a in log[0]["log"]] == [503, 200] and log[0]["status"] == "delivered"
    again = api.post(f"/api/notify/webhooks/{endpoint['id']}/deliveries/{log[0]['id']}/redelivery", token=token)
    assert again.status_code == 202
    wait_until(lambda: len(receiver.requests) == 3, message="the redelivery")


def test_an_endpoint_that_is_gone_is_disabled_and_its_owner_told(api, coordinator, setting, receiver, mailbox):
    token = setting["tokens"][0]
    api.put("/api/notify/contacts/me", token=token, json={"email": "cpk@example.org"})
    receiver.answers = [(410, {})]
    endpoint = _endpoint(api, token, receiver)
    approved(api, coordinator, setting)
    wait_until(lambda: api.get(f"/api/notify/webhooks/{endpoint['id']}", token=token).json["status"] == "disabled",
               message="the endpoint to be disabled")
    wait_until(lambda: any("webhook" in (m["Subject"] or "").lower() or receiver.url in
                           m.get_body(("plain",)).get_content() for m in mailbox.to("cpk@example.org")),
               message="the owner to be told")
    assert len(receiver.requests) == 1


def test_organisations_get_no_webhook_of_what_they_may_not_see(api, coordinator, setting, receiver):
    other = setting["tokens"][1]
    _endpoint(api, other, receiver, types=("event.submitted", "event.approved"))
    approved(api, coordinator, setting, visibility="coordinators")  # another organisation's hidden event
    submit(api, setting)  # and its submission
    visible = approved(api, coordinator, setting)
    wait_until(lambda: receiver.requests, message="the public event's delivery")
    assert [json.loads(r["body"])["data"]["id"] for r in receiver.requests] == [visible["id"]]


@pytest.mark.parametrize("url", ["ftp://example.org/hook", "http://user:secret@example.org/hook",
                                 "http://10.0.0.7/hook", "http://169.254.169.254/latest/meta-data",
                                 "http://[::ffff:10.0.0.7]/hook", "http://localhost/hook", "not a url"])
def test_webhook_urls_that_reach_inside_or_carry_credentials_are_refused(api, setting, url):
    response = api.post("/api/notify/webhooks", token=setting["tokens"][0], json={"url": url,
                                                                                  "types": ["event.approved"]})
    assert response.status_code == 422 and response.json["errors"][0]["field"] == "url"
    assert api.get("/api/notify/webhooks", token=setting["tokens"][0]).json == {"items": [], "next": None}


def test_a_message_delivered_twice_is_told_once(api, coordinator, setting, mailbox):
    """The bus may deliver a message again (a consumer that died before acknowledging it):
    each recipient still gets one e-mail."""
    address = "twice@example.org"
    confirmed_subscriber(api, mailbox, address)
    approved(api, coordinator, setting)
    wait_until(lambda: len(mailbox.to(address)) == 2, message="the new event's e-mail")
    kernel = notify_kernel(api)
    outbox = api.platform.kernels["events"].tables["outbox"]
    with api.platform.kernels["events"].db.transaction() as s:
        body = [json.loads(b) for b in s.execute(select(outbox.c.body)).scalars()
                if json.loads(b)["type"] == "event.approved"][0]
    delivery = kernel.delivery()
    with kernel.db.transaction() as s:  # forget that it was handled, as a consumer that died would
        s.execute(kernel.tables["inbox"].delete())
    assert delivery.handle(body, {}) == "handled"
    wait_until(lambda: count(api, Notification, Notification.status == "pending") == 0)
    assert len(mailbox.to(address)) == 2


def test_the_confirmation_page_takes_a_form_post(api, mailbox):
    api.platform.start_workers()
    address = "form@example.org"
    api.post(SUBSCRIPTIONS, json={"email": address, "scope": "country", "country": "DE"})
    wait_until(lambda: mailbox.to(address), message="the confirmation e-mail")
    url = local(link_in(mailbox.to(address)[0], "subscriptions/confirmation"))
    token = parse_qs(urlsplit(url).query)["token"][0]
    assert api.post(url, data={"token": token}, headers={"Content-Type": "application/x-www-form-urlencoded"}
                    ).status_code == 200
    assert count(api, Subscription, Subscription.status == "confirmed") == 1


def test_one_person_hears_of_an_event_once_whatever_their_scopes(api, coordinator, setting, mailbox):
    address = "many@example.org"
    confirmed_subscriber(api, mailbox, address)
    confirmed_subscriber(api, mailbox, address, scope="city", city="Nairobi")
    before = len(mailbox.to(address))
    approved(api, coordinator, setting)
    wait_until(lambda: len(mailbox.to(address)) > before, message="the new event's e-mail")
    wait_until(lambda: count(api, Notification, Notification.status.in_(["pending", "sending"])) == 0)
    assert len(mailbox.to(address)) == before + 1


def test_asking_again_changes_nothing_and_sends_no_flood(api, setting, mailbox):
    address = "victim@example.org"
    body = {"email": address, "language": "de", "scope": "country", "country": "KE", "wants": ["reports"]}
    assert api.post(SUBSCRIPTIONS, json=body).status_code == 202
    for _ in range(5):  # someone else, again and again, with other wishes
        again = api.post(SUBSCRIPTIONS, json={**body, "language": "fa", "wants": ["new_events"]})
        assert again.status_code == 202
    wait_until(lambda: mailbox.to(address), message="the confirmation e-mail")
    wait_until(lambda: count(api, Notification, Notification.status.in_(["pending", "sending"])) == 0)
    assert len(mailbox.to(address)) == 1
    with notify_kernel(api).db.transaction() as s:
        [subscription] = s.execute(select(Subscription)).scalars().all()
        assert (subscription.language, subscription.wants) == ("de", ["reports"])


def test_a_country_on_hold_is_told_to_nobody(api, coordinator, setting, mailbox, receiver):
    address = "held@example.org"
    confirmed_subscriber(api, mailbox, address)
    _endpoint(api, setting["tokens"][1], receiver)  # another organisation's system
    assert api.put("/api/events/countries/KE/hold", token=coordinator, json={"reason": "raids"}).status_code == 200

    def held():
        from services.notify.models import country_holds
        with notify_kernel(api).db.transaction() as s:
            return s.execute(select(country_holds.c.held).where(country_holds.c.country == "KE")).scalar()

    wait_until(held, message="notify to hear of the hold")
    event = approved(api, coordinator, setting)
    wait_until(lambda: known_to_notify(api, event["id"]), message="notify to handle the approval")
    assert len(mailbox.to(address)) == 1 and receiver.requests == []  # only the confirmation


def test_organisations_systems_hear_nothing_of_drafts_or_of_others_unapproved_events(api, coordinator, setting,
                                                                                      receiver):
    from tests.integration.test_campaigns_api import CAMPAIGN_2022, CAMPAIGNS

    _endpoint(api, setting["tokens"][1], receiver, types=("campaign.created", "event.cancelled", "event.updated"))
    api.post(CAMPAIGNS, token=coordinator, json={**CAMPAIGN_2022, "name": "Secret plan", "status": "draft"})
    unapproved = submit(api, setting).json
    api.post(f"{EVENTS}/{unapproved['id']}/cancellation", token=setting["tokens"][0])
    public = approved(api, coordinator, setting)
    api.patch(f"{EVENTS}/{public['id']}", token=setting["tokens"][0], json={"title": {"en": "BUY CHEAP PILLS"}})
    moved = approved(api, coordinator, setting)  # its change heard of once a coordinator accepts it
    accepted_change(api, coordinator, setting["tokens"][0], moved["id"], {"venue": "Kamukunji grounds"})
    wait_until(lambda: any(json.loads(r["body"])["type"] == "event.updated" for r in receiver.requests),
               message="the public change's delivery")
    got = [(json.loads(r["body"])["type"], json.loads(r["body"])["data"]["id"]) for r in receiver.requests]
    open_campaign = ("campaign.created", setting["campaign"]["id"])  # public, and may still have been on its way
    assert [g for g in got if g != open_campaign] == [("event.updated", moved["id"])]


def test_the_confirmation_names_the_campaign_and_the_place_in_the_readers_language(api, setting, notify_campaign,
                                                                                   mailbox):
    """A reader who follows a city of a campaign is told which campaign's day of action it is."""
    address = "leyla@example.org"
    body = {"email": address, "language": "de", "scope": "city", "country": "KE", "city": "Nairobi",
            "campaign_id": notify_campaign}
    assert api.post(SUBSCRIPTIONS, json=body).status_code == 202
    wait_until(lambda: mailbox.to(address), message="the confirmation e-mail")
    text = mailbox.to(address)[0].get_body(("plain",)).get_content()
    assert setting["campaign"]["name"] in text and "Nairobi, Kenia" in text


def test_subscribers_are_told_of_a_published_report_in_their_language(api, coordinator, setting, media_campaign,
                                                                       mailbox):
    from tests.integration.test_media_reports import PERSIAN_AND_ENGLISH, REPORTS, send

    readers = {"leila@example.org": "fa", "otieno@example.org": "en", "jonas@example.org": "de"}
    for address, language in readers.items():
        confirmed_subscriber(api, mailbox, address, language=language, wants=["reports"])
    report = send(api, setting["tokens"][0], campaign_id=media_campaign, country="KE", **PERSIAN_AND_ENGLISH).json
    api.post(f"{REPORTS}/{report['id']}/publication", token=coordinator)
    wait_until(lambda: all(len(mailbox.to(address)) == 2 for address in readers), message="the reports' e-mails")
    subjects = {language: mailbox.to(address)[-1]["Subject"] for address, language in readers.items()}
    assert "راهپیمایی در نایروبی" in subjects["fa"] and "Nairobi marched" in subjects["en"]
    assert "راهپیمایی در نایروبی" in subjects["de"]  # no German title: the original one
