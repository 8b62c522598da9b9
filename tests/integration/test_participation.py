"""Saying "I'll come", as a participant and a host see it through the notify API
(docs/participation.md): a sign-up needs nothing but how many come; without an address the
answer holds the private link's key, which alone opens, cancels and erases it; places, the
waiting list in arrival order, the hosts' view and the counts on the bus. SQLite and PostgreSQL."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from services.notify.models import KnownEvent, Participation, Subscription
from tests.conftest import wait_until
from tests.integration.conftest import ApiClient
from tests.integration.test_campaigns_api import CAMPAIGNS
from tests.integration.test_local_events_api import EVENTS, event

PROBLEM = "urn:dayofaction:problem:"
FUTURE_CAMPAIGN = {"name": "Day of action 2027", "languages": ["en", "fa"], "day_of_action": "2027-05-01",
                   "window_start": "2027-04-25", "window_end": "2027-05-10", "status": "open"}


@pytest.fixture(params=["sqlite", "postgres"])
def api(request, make_platform):
    return ApiClient(make_platform(db=request.param, PARTICIPATE_RATE_LIMIT="10000/minute",
                                   PUBLIC_URL="http://doa.test"))


def notify_has(api, event_id: str) -> KnownEvent | None:
    with api.platform.kernels["notify"].db.transaction() as s:
        return s.get(KnownEvent, event_id)


def notify_knows(api, event_id: str) -> bool:
    known = notify_has(api, event_id)
    return known is not None and known.status == "approved"


@pytest.fixture
def hosted(api, coordinator, organisations):
    """An approved public event of 2027 that notify knows, and its organisation's token."""
    campaign = api.post(CAMPAIGNS, token=coordinator, json=FUTURE_CAMPAIGN).json
    owner = api.organisation_token(coordinator, organisations[0]["id"])[1]
    made = api.post(f"{CAMPAIGNS}/{campaign['id']}/events", token=owner, json=event(
        start="2027-05-01T17:00:00", end="2027-05-01T19:00:00", title={"en": "Rally", "fa": "تجمع"}))
    assert made.status_code == 201, made.json
    assert api.post(f"{EVENTS}/{made.json['id']}/approval", token=coordinator).status_code == 200
    wait_until(lambda: notify_knows(api, made.json["id"]), message="notify to know the approved event")
    return {"event": made.json, "owner": owner, "coordinator": coordinator}


def places_path(event_id: str) -> str:
    return f"/api/notify/events/{event_id}/participation"


def sign_up(api, event_id: str, **body):
    return api.post(f"/api/notify/events/{event_id}/participants", json={"language": "fa", **body})


def test_saying_ill_come_needs_nothing_but_how_many_and_gives_a_private_link(api, hosted):
    event_id = hosted["event"]["id"]
    made = sign_up(api, event_id, party_size=3)
    assert made.status_code == 201, made.json
    assert made.json["status"] == "coming" and made.json["party_size"] == 3 and made.json["position"] is None
    assert made.json["url"] == f"http://doa.test/p/{made.json['key']}" and len(made.json["key"]) == 43
    assert made.headers["Cache-Control"] == "no-store"
    opened = api.get(made.headers["Location"])
    assert opened.status_code == 200 and opened.json["id"] == made.json["id"] and "key" not in opened.json
    assert opened.json["event"]["title"] == {"en": "Rally", "fa": "تجمع"} and opened.json["with_email"] is False
    assert api.get(places_path(event_id)).json == {"event_id": event_id, "open": True, "capacity": None,
                                                    "coming": 3, "waiting": 0, "places_left": None}
    calendar = api.get(f"{made.headers['Location']}/event.ics")
    assert calendar.status_code == 200 and calendar.mimetype == "text/calendar"
    assert b"SUMMARY:\xd8\xaa\xd8\xac\xd9\x85\xd8\xb9" in calendar.data and b"DTSTART:20270501T140000Z" in calendar.data


def test_a_key_changed_by_one_character_opens_nothing(api, hosted):
    key = sign_up(api, hosted["event"]["id"]).json["key"]
    other = key[:-1] + ("A" if key[-1] != "A" else "B")
    for bad in (other, key[:-1], "x" * 43, "not-a-key"):
        response = api.get(f"/api/notify/participations/{bad}")
        assert response.status_code == 404 and response.json["type"] == PROBLEM + "not-found"


def test_when_full_sign_ups_wait_in_arrival_order_and_a_cancellation_promotes_the_first_who_fits(api, hosted):
    event_id = hosted["event"]["id"]
    set_to = api.patch(places_path(event_id), token=hosted["owner"], json={"capacity": 4})
    assert set_to.status_code == 200 and set_to.json["places_left"] == 4
    first = sign_up(api, event_id, party_size=3).json
    big, small = sign_up(api, event_id, party_size=2).json, sign_up(api, event_id, party_size=1).json
    assert (first["status"], big["status"], small["status"]) == ("coming", "waiting", "waiting")
    assert (big["position"], small["position"]) == (1, 2)  # nobody jumps the list, even one who would fit
    counts = api.get(places_path(event_id)).json
    assert (counts["coming"], counts["waiting"], counts["places_left"]) == (3, 3, 1)

    cancelled = api.post(f"/api/notify/participations/{first['key']}/cancellation")
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"
    assert api.get(f"/api/notify/participations/{big['key']}").json["status"] == "coming"
    assert api.get(f"/api/notify/participations/{small['key']}").json["status"] == "coming"
    counts = api.get(places_path(event_id), token=hosted["owner"]).json
    assert (counts["coming"], counts["waiting"], counts["cancelled"], counts["places_left"]) == (3, 0, 3, 1)


def test_the_hosts_see_only_the_names_people_chose_to_show_them(api, hosted):
    event_id = hosted["event"]["id"]
    sign_up(api, event_id, name="Shirin", show_name=True, party_size=2)
    sign_up(api, event_id, name="Nobody-needs-to-know")
    public = api.get(places_path(event_id)).json
    assert "names" not in public and "Shirin" not in str(public)
    for token in (hosted["owner"], hosted["coordinator"]):
        host = api.get(places_path(event_id), token=token).json
        assert host["names"] == [{"name": "Shirin", "party_size": 2, "status": "coming"}]
        assert "Nobody-needs-to-know" not in str(host)


def test_only_the_events_organisation_and_coordinators_set_its_places(api, hosted, organisations, coordinator):
    other = api.organisation_token(coordinator, organisations[1]["id"])[1]
    refused = api.patch(places_path(hosted["event"]["id"]), token=other, json={"capacity": 1})
    assert refused.status_code == 403
    assert api.get(places_path(hosted["event"]["id"])).json["capacity"] is None


def test_the_hosts_ceiling_on_sign_ups_without_an_address(api, hosted):
    event_id = hosted["event"]["id"]
    api.patch(places_path(event_id), token=hosted["owner"], json={"anonymous_limit": 3})
    assert sign_up(api, event_id, party_size=2).status_code == 201
    refused = sign_up(api, event_id, party_size=2)
    assert refused.status_code == 409 and refused.json["type"] == PROBLEM + "anonymous-limit-reached"
    assert api.get(places_path(event_id)).json["coming"] == 2  # the refusal took nothing
    assert sign_up(api, event_id, party_size=1).status_code == 201


def test_with_an_address_the_answer_tells_nothing_and_the_same_address_is_one_sign_up(api, hosted):
    event_id = hosted["event"]["id"]
    answers = [sign_up(api, event_id, email="Leyla@Example.org", party_size=2) for _ in range(2)]
    assert [a.status_code for a in answers] == [202, 202] and answers[0].json == answers[1].json
    assert "key" not in answers[0].json
    assert api.get(places_path(event_id)).json["coming"] == 0  # counted once the address is confirmed
    with api.platform.kernels["notify"].db.transaction() as s:
        assert s.execute(select(func.count()).select_from(Participation)).scalar_one() == 1
        assert s.execute(select(Subscription.scope, Subscription.wants)).one() == ("event", ["changes", "reminders"])


def test_erasing_leaves_nothing_of_the_person_but_the_count_of_a_cancellation(api, hosted):
    event_id = hosted["event"]["id"]
    key = sign_up(api, event_id, name="Parisa", show_name=True).json["key"]
    gone = api.delete(f"/api/notify/participations/{key}")
    assert gone.status_code == 204 and gone.data == b""
    assert api.get(f"/api/notify/participations/{key}").status_code == 404
    with api.platform.kernels["notify"].db.transaction() as s:
        assert s.execute(select(func.count()).select_from(Participation)).scalar_one() == 0
    host = api.get(places_path(event_id), token=hosted["owner"]).json
    assert (host["coming"], host["cancelled"], host["names"]) == (0, 1, [])


@pytest.mark.parametrize(("body", "field"), [({"party_size": 0}, "party_size"), ({"party_size": 21}, "party_size"),
                                              ({"email": "not an address"}, "email"), ({"language": "xx"}, "language"),
                                              ({"name": "a" * 101}, "name")])
def test_bad_sign_ups_are_refused_by_field_and_take_nothing(api, hosted, body, field):
    refused = sign_up(api, hosted["event"]["id"], **body)
    assert refused.status_code == 422 and refused.json["type"] == PROBLEM + "validation"
    assert field in [e["field"] for e in refused.json["errors"]]
    assert api.get(places_path(hosted["event"]["id"])).json["coming"] == 0


def test_nobody_signs_up_for_an_unapproved_or_unknown_event(api, hosted, coordinator):
    owner = hosted["owner"]
    pending = api.post(f"{CAMPAIGNS}/{hosted['event']['campaign_id']}/events", token=owner, json=event(
        start="2027-05-02T17:00:00", end="2027-05-02T19:00:00")).json
    fresh = sign_up(api, pending["id"])  # notify may not have heard of it yet: the platform's lag, not a 404
    assert fresh.status_code in (404, 503)
    wait_until(lambda: notify_has(api, pending["id"]), message="notify to know the submitted event")
    for event_id in (pending["id"], "00000000-0000-4000-8000-000000000000"):
        refused = sign_up(api, event_id)
        assert refused.status_code == 404 and refused.json["detail"] == "No public event has this id."


def test_the_counts_go_on_the_bus_and_never_who(api, hosted):
    event_id = hosted["event"]["id"]
    sign_up(api, event_id, name="Secret Name", show_name=True, party_size=2)
    sign_up(api, event_id, name="Other", email="secret@example.org")  # unconfirmed: counted nowhere yet
    kernel = api.platform.kernels["notify"]
    outbox = kernel.tables["outbox"]
    with kernel.db.transaction() as s:
        bodies = s.execute(select(outbox.c.body).where(outbox.c.routing_key == "event.participation_changed")
                           .order_by(outbox.c.seq)).scalars().all()
    assert bodies and "secret" not in " ".join(bodies).lower()
    data = json.loads(bodies[-1])["data"]
    assert data == {"event_id": event_id, "campaign_id": hosted["event"]["campaign_id"],
                    "organisation_id": hosted["event"]["organisation_id"], "capacity": None, "coming": 2,
                    "waiting": 0, "cancelled": 0, "checked_in": 0}


def test_a_thousand_sign_ups_at_once_take_exactly_the_places_there_are_and_wait_in_arrival_order(api, hosted):
    """1,000 sign-ups at the same moment for 300 places: 300 taken, 700 waiting, each waiting
    one with its own place on the list, and nobody who arrived later holding a place."""
    from concurrent.futures import ThreadPoolExecutor

    from werkzeug.test import Client

    event_id = hosted["event"]["id"]
    api.patch(places_path(event_id), token=hosted["owner"], json={"capacity": 300})
    path = f"/api/notify/events/{event_id}/participants"

    def one(_):
        return Client(api.platform.wsgi).post(path, json={"language": "en"}).json

    with ThreadPoolExecutor(max_workers=32) as pool:
        answers = list(pool.map(one, range(1000)))
    statuses = [a["status"] for a in answers]
    assert statuses.count("coming") == 300 and statuses.count("waiting") == 700
    assert sorted(a["position"] for a in answers if a["status"] == "waiting") == list(range(1, 701))
    counts = api.get(places_path(event_id)).json
    assert (counts["coming"], counts["waiting"], counts["places_left"]) == (300, 700, 0)
    with api.platform.kernels["notify"].db.transaction() as s:
        rows = s.execute(select(Participation.status).order_by(Participation.seq)).scalars().all()
    assert rows == ["coming"] * 300 + ["waiting"] * 700  # in the order they arrived


@pytest.fixture
def mailed(make_platform, mailbox):
    """(api, a coordinator's token, an approved event of 2027), the e-mail going to `mailbox`."""
    api = ApiClient(make_platform(SMTP_HOST="127.0.0.1", SMTP_PORT=mailbox.port, SMTP_SECURITY="none",
                                  PARTICIPATE_RATE_LIMIT="10000/minute", PUBLIC_URL="http://doa.test"))
    coordinator = api.coordinator_token()
    api.platform.start_workers()
    organisation = api.register(coordinator)
    wait_until(lambda: _events_know(api, organisation["id"]), message="events to know the organisation")
    made = _hosted_event(api, coordinator, organisation["id"])
    return api, coordinator, made


def test_with_an_address_the_confirmation_brings_the_private_link_and_cancelling_ends_the_mail(mailed, mailbox):
    api, _, made = mailed
    assert sign_up(api, made["id"], email="leyla@example.org", language="fa").status_code == 202
    wait_until(lambda: mailbox.to("leyla@example.org"), message="the confirmation e-mail")
    text = mailbox.to("leyla@example.org")[0].get_body(("plain",)).get_content()
    link = next(word for word in text.split() if word.startswith("http://doa.test/p/")).strip("<>()")
    opened = api.get(f"/api/notify/participations/{link.rsplit('/', 1)[1]}")
    assert opened.status_code == 200 and opened.json["status"] == "unconfirmed" and opened.json["with_email"] is True
    assert api.get(places_path(made["id"])).json["coming"] == 0
    assert mailbox.to("leyla@example.org")[0]["Subject"] == "لطفاً ثبت‌نام خود را تأیید کنید"  # a sign-up's
    confirm = next(w for w in text.split() if "/subscriptions/confirmation?token=" in w).replace("http://doa.test", "")
    asked = api.get(confirm, headers={"Accept-Language": "en"})  # the page speaks the sign-up's language
    assert asked.status_code == 200 and '<html lang="fa" dir="rtl">' in asked.text
    assert "ثبت‌نام خود را تأیید کنید" in asked.text and "تأیید ثبت‌نام من</button>" in asked.text
    done = api.post(confirm)
    assert done.status_code == 200 and "ثبت‌نام شما تأیید شد" in done.text
    assert f'href="{link}"' in done.text  # onwards to the sign-up's page
    assert api.get(f"/api/notify/participations/{link.rsplit('/', 1)[1]}").json["status"] == "coming"
    assert api.get(places_path(made["id"])).json["coming"] == 1
    assert "شما همچنین گفتید که می‌آیید" in text  # in the language the participant chose
    api.post(f"/api/notify/participations/{link.rsplit('/', 1)[1]}/cancellation")
    with api.platform.kernels["notify"].db.transaction() as s:
        assert s.execute(select(func.count()).select_from(Subscription)).scalar_one() == 0  # no reminders now


def _events_know(api, organisation_id: str) -> bool:
    from services.events.models import KnownOrganisation

    with api.platform.kernels["events"].db.transaction() as s:
        return s.get(KnownOrganisation, organisation_id) is not None


def _hosted_event(api, coordinator: str, organisation_id: str) -> dict:
    campaign = api.post(CAMPAIGNS, token=coordinator, json=FUTURE_CAMPAIGN).json
    owner = api.organisation_token(coordinator, organisation_id)[1]
    made = api.post(f"{CAMPAIGNS}/{campaign['id']}/events", token=owner, json=event(
        start="2027-05-01T17:00:00", end="2027-05-01T19:00:00")).json
    assert api.post(f"{EVENTS}/{made['id']}/approval", token=coordinator).status_code == 200
    wait_until(lambda: notify_knows(api, made["id"]), message="notify to know the approved event")
    return made


def test_one_who_waited_is_told_by_mail_when_a_place_is_theirs(mailed, mailbox):
    api, coordinator, made = mailed
    api.patch(places_path(made["id"]), token=coordinator, json={"capacity": 1})
    first = sign_up(api, made["id"]).json
    assert sign_up(api, made["id"], email="sara@example.org", language="en").status_code == 202
    wait_until(lambda: mailbox.to("sara@example.org"), message="the confirmation e-mail")
    confirm = next(w for w in mailbox.to("sara@example.org")[0].get_body(("plain",)).get_content().split()
                   if "/subscriptions/confirmation?token=" in w)
    assert api.post(confirm.replace("http://doa.test", "")).status_code == 200
    api.post(f"/api/notify/participations/{first['key']}/cancellation")
    wait_until(lambda: len(mailbox.to("sara@example.org")) == 2, message="the e-mail that a place is free")
    told = mailbox.to("sara@example.org")[1]
    assert told["Subject"] == "A place for you: Rally for solidarity"
    assert api.get(places_path(made["id"])).json["coming"] == 1


def test_sign_ups_are_shredded_some_days_after_the_event_and_the_counts_stay(api, hosted):
    from datetime import timedelta

    from services.notify import participation
    from shared.db import utcnow

    event_id = hosted["event"]["id"]
    sign_up(api, event_id, name="Darya", show_name=True, party_size=2)
    sign_up(api, event_id, email="darya@example.org")
    kernel = api.platform.kernels["notify"]
    with kernel.db.transaction() as s:
        assert participation.shred(s, kernel.config, utcnow()) == 0  # the event has not even begun
        s.get(KnownEvent, event_id).ends_at = utcnow() - timedelta(days=15)
    with kernel.db.transaction() as s:
        assert participation.shred(s, kernel.config, utcnow()) == 2
    with kernel.db.transaction() as s:
        assert s.execute(select(func.count()).select_from(Participation)).scalar_one() == 0
        assert s.execute(select(func.count()).select_from(Subscription)).scalar_one() == 0
    counts = api.get(places_path(event_id), token=hosted["owner"]).json
    assert (counts["coming"], counts["names"], counts["open"]) == (2, [], False)  # Darya's address was never confirmed


def test_when_a_hidden_address_becomes_public_those_coming_hear_where_by_mail(mailed, mailbox):
    """An address hidden until two hours before the start: at that moment the events service
    tells the bus where the event is, once, and the participants with a confirmed address get it."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from services.events import disclosures
    from shared.db import utcnow

    api, coordinator, made = mailed
    now = datetime.now(ZoneInfo("Africa/Nairobi")).replace(microsecond=0, tzinfo=None)
    campaign = api.post(CAMPAIGNS, token=coordinator, json={
        **FUTURE_CAMPAIGN, "name": "Today", "day_of_action": now.date().isoformat(),
        "window_start": (now.date() - timedelta(days=1)).isoformat(),
        "window_end": (now.date() + timedelta(days=2)).isoformat()}).json
    owner = api.organisation_token(coordinator, made["organisation_id"])[1]
    soon = api.post(f"{CAMPAIGNS}/{campaign['id']}/events", token=owner, json=event(
        start=(now + timedelta(hours=3)).isoformat(), end=(now + timedelta(hours=5)).isoformat(),
        address_public="before", address_public_hours=2, address="Uhuru Park, gate 2")).json
    api.post(f"{EVENTS}/{soon['id']}/approval", token=coordinator)
    wait_until(lambda: notify_knows(api, soon["id"]), message="notify to know the approved event")
    sign_up(api, soon["id"], email="omid@example.org", language="en")
    wait_until(lambda: mailbox.to("omid@example.org"), message="the confirmation e-mail")
    confirm = next(w for w in mailbox.to("omid@example.org")[0].get_body(("plain",)).get_content().split()
                   if "/subscriptions/confirmation?token=" in w)
    api.post(confirm.replace("http://doa.test", ""))

    events = api.platform.kernels["events"]
    with events.db.transaction() as s:
        assert disclosures.announce_due(s, events.outbox, utcnow()) == 0  # three hours before: still hidden
    with events.db.transaction() as s:
        assert disclosures.announce_due(s, events.outbox, utcnow() + timedelta(hours=1, minutes=1)) == 1
    with events.db.transaction() as s:
        assert disclosures.announce_due(s, events.outbox, utcnow() + timedelta(hours=1, minutes=2)) == 0  # once
    wait_until(lambda: any("Where it happens" in m["Subject"] for m in mailbox.to("omid@example.org")),
               message="the e-mail with the address")
    told = next(m for m in mailbox.to("omid@example.org") if "Where it happens" in m["Subject"])
    assert "Uhuru Park, gate 2" in told.get_body(("plain",)).get_content()


def door(api, hosted, *actions, token=None):
    return api.post(f"/api/notify/events/{hosted['event']['id']}/check-ins", token=token or hosted["owner"],
                    json={"actions": list(actions)})


def test_the_door_counts_people_and_participants_once_however_often_the_page_sends_them(api, hosted):
    """The door's page sends its actions again after being offline: each is counted once; a
    participant shown at two phones counts once; a code nobody has is said to be unknown."""
    import uuid

    event_id = hosted["event"]["id"]
    family = sign_up(api, event_id, party_size=3).json
    friend = sign_up(api, event_id).json
    assert len(family["code"]) == 8 and family["checked_in"] is False
    plus, minus = [{"id": str(uuid.uuid4()), "kind": "door", "delta": d} for d in (1, -1)]
    second_plus = {"id": str(uuid.uuid4()), "kind": "door"}
    by_qr = {"id": str(uuid.uuid4()), "kind": "participant", "key": family["key"]}
    by_code = {"id": str(uuid.uuid4()), "kind": "participant",
               "code": f"{friend['code'][:4].lower()}-{friend['code'][4:]}"}
    first = door(api, hosted, plus, second_plus, minus, by_qr, by_code)
    assert first.status_code == 200, first.json
    assert first.json == {"applied": 5, "repeated": 0, "unknown": [], "checked_in": 1 + 3 + 1}
    again = door(api, hosted, plus, second_plus, minus, by_qr, by_code,  # the offline page sends it all again
                 {"id": str(uuid.uuid4()), "kind": "participant", "key": family["key"]})  # and another phone
    assert again.json == {"applied": 0, "repeated": 6, "unknown": [], "checked_in": 5}
    nobody = {"id": str(uuid.uuid4()), "kind": "participant", "code": "ZZZZ2222"}
    assert door(api, hosted, nobody).json["unknown"] == [nobody["id"]]
    assert api.get(f"/api/notify/participations/{family['key']}").json["checked_in"] is True
    assert api.get(places_path(event_id), token=hosted["owner"]).json["checked_in"] == 5
    assert "checked_in" not in api.get(places_path(event_id)).json  # the public sees who comes, not who came


def test_only_the_hosts_count_at_the_door_and_bad_actions_change_nothing(api, hosted, organisations, coordinator):
    import uuid

    other = api.organisation_token(coordinator, organisations[1]["id"])[1]
    action = {"id": str(uuid.uuid4()), "kind": "door"}
    assert door(api, hosted, action, token=other).status_code == 403
    for bad in ({"id": "x", "kind": "door"}, {"id": str(uuid.uuid4()), "kind": "door", "delta": 5},
                {"id": str(uuid.uuid4()), "kind": "knock"}):
        refused = door(api, hosted, bad)
        assert refused.status_code == 422 and refused.json["type"] == PROBLEM + "validation", bad
    assert api.get(places_path(hosted["event"]["id"]), token=hosted["owner"]).json["checked_in"] == 0
    below = door(api, hosted, {"id": str(uuid.uuid4()), "kind": "door", "delta": -1})
    assert below.json["checked_in"] == 0  # never fewer than nobody
    nameless = {"id": str(uuid.uuid4()), "kind": "participant"}  # the rest of an offline batch still counts
    assert door(api, hosted, nameless, action).json == {"applied": 1, "repeated": 0, "unknown": [nameless["id"]],
                                                         "checked_in": 1}


def test_the_hosts_write_to_participants_who_read_it_in_their_language_and_coordinators_see_it(api, hosted):
    event_id = hosted["event"]["id"]
    persian, german = sign_up(api, event_id).json, sign_up(api, event_id, language="de").json
    text = {"en": "The meeting point moved to the north gate.", "fa": "محل تجمع به درِ شمالی منتقل شد."}
    written = api.post(f"/api/notify/events/{event_id}/messages", token=hosted["owner"], json={"text": text})
    assert written.status_code == 201, written.json
    assert api.get(written.headers["Location"], token=hosted["coordinator"]).json["text"] == text
    seen = api.get(f"/api/notify/participations/{persian['key']}").json["messages"]
    assert [(m["text"], m["language"]) for m in seen] == [(text["fa"], "fa")]
    seen = api.get(f"/api/notify/participations/{german['key']}").json["messages"]
    assert [(m["text"], m["language"]) for m in seen] == [(text["en"], "en")]  # not written in German: the first
    listed = api.get(f"/api/notify/events/{event_id}/messages", token=hosted["coordinator"]).json
    assert [m["text"] for m in listed["items"]] == [text] and listed["next"] is None


def test_only_the_hosts_write_and_not_more_than_ten_a_day(api, hosted, organisations, coordinator):
    event_id = hosted["event"]["id"]
    path = f"/api/notify/events/{event_id}/messages"
    other = api.organisation_token(coordinator, organisations[1]["id"])[1]
    assert api.post(path, token=other, json={"text": {"en": "Hi"}}).status_code == 403
    assert api.get(path, token=other).status_code == 403
    for bad in ({"text": {}}, {"text": "plain"}, {"text": {"xx": "Hi"}}, {"text": {"en": "a" * 2001}}):
        refused = api.post(path, token=hosted["owner"], json=bad)
        assert refused.status_code == 422 and refused.json["type"] == PROBLEM + "validation", bad
    for n in range(10):
        assert api.post(path, token=hosted["owner"], json={"text": {"en": f"Update {n}"}}).status_code == 201
    eleventh = api.post(path, token=hosted["owner"], json={"text": {"en": "One more"}})
    assert eleventh.status_code == 429 and eleventh.json["type"] == PROBLEM + "rate-limited"
    assert 0 < int(eleventh.headers["Retry-After"]) <= 24 * 3600


def test_a_hosts_message_reaches_a_confirmed_address_by_mail_in_its_language(mailed, mailbox):
    api, coordinator, made = mailed
    assert sign_up(api, made["id"], email="nasrin@example.org", language="fa").status_code == 202
    wait_until(lambda: mailbox.to("nasrin@example.org"), message="the confirmation e-mail")
    confirm = next(w for w in mailbox.to("nasrin@example.org")[0].get_body(("plain",)).get_content().split()
                   if "/subscriptions/confirmation?token=" in w)
    assert api.post(confirm.replace("http://doa.test", "")).status_code == 200
    api.post(f"/api/notify/events/{made['id']}/messages", token=coordinator,
             json={"text": {"en": "Bring water.", "fa": "آب همراه داشته باشید."}})
    wait_until(lambda: len(mailbox.to("nasrin@example.org")) == 2, message="the hosts' message by e-mail")
    text = mailbox.to("nasrin@example.org")[1].get_body(("plain",)).get_content()
    assert "آب همراه داشته باشید." in text and "Bring water." not in text


def test_a_co_host_shares_the_hosts_view_once_it_accepts_and_lists_the_event_with_its_own(api, hosted, organisations,
                                                                                         coordinator):
    """The owner invites another signatory; until it accepts it sees nothing of the hosts' side;
    then it sees the names shown to hosts, writes to participants, counts at the door, and the
    event is among its events."""
    import uuid

    event_id, partner = hosted["event"]["id"], organisations[1]["id"]
    partner_token = api.organisation_token(coordinator, partner)[1]
    sign_up(api, event_id, name="Mina", show_name=True)
    invited = api.post(f"{EVENTS}/{event_id}/hosts", token=hosted["owner"], json={"organisation_id": partner})
    assert invited.status_code == 201 and invited.json["status"] == "invited", invited.json
    assert api.get(invited.headers["Location"], token=partner_token).json["status"] == "invited"
    waiting = api.get("/api/events/hosting-invitations", token=partner_token, query_string={"status": "invited"})
    assert [(i["event_id"], i["status"]) for i in waiting.json["items"]] == [(event_id, "invited")]
    owners_list = api.get(f"{EVENTS}/{event_id}/hosts", token=hosted["owner"]).json
    assert [(h["organisation_id"], h["status"]) for h in owners_list["items"]] == [(partner, "invited")]
    assert api.get(places_path(event_id), token=partner_token).json.get("names") is None  # not yet a host
    assert api.post(f"{EVENTS}/{event_id}/hosts/{partner}/acceptance", token=hosted["owner"]).status_code == 403
    accepted = api.post(f"{EVENTS}/{event_id}/hosts/{partner}/acceptance", token=partner_token)
    assert accepted.status_code == 200 and accepted.json["status"] == "accepted"
    assert api.get(f"{EVENTS}/{event_id}").json["co_hosts"] == [partner]
    assert api.get("/api/events/hosting-invitations", token=partner_token,
                   query_string={"status": "invited"}).json["items"] == []
    listed = api.get(EVENTS, query_string={"organisation_id": partner}).json["items"]
    assert [e["id"] for e in listed] == [event_id]

    def notify_sees_co_host():
        known = notify_has(api, event_id)
        return known is not None and known.co_hosts == [partner]

    wait_until(notify_sees_co_host, message="notify to learn the co-host")
    assert api.get(places_path(event_id), token=partner_token).json["names"][0]["name"] == "Mina"
    assert api.post(f"/api/notify/events/{event_id}/messages", token=partner_token,
                    json={"text": {"en": "We are at the north gate."}}).status_code == 201
    assert door(api, hosted, {"id": str(uuid.uuid4()), "kind": "door"}, token=partner_token).status_code == 200
    assert api.patch(f"{EVENTS}/{event_id}", token=partner_token, json={"city": "Mombasa"}).status_code == 403

    left = api.delete(f"{EVENTS}/{event_id}/hosts/{partner}", token=partner_token)
    assert left.status_code == 204
    wait_until(lambda: notify_has(api, event_id).co_hosts == [], message="notify to learn the co-host left")
    assert api.get(places_path(event_id), token=partner_token).json.get("names") is None


def test_only_the_owner_invites_and_only_another_active_organisation(api, hosted, organisations, coordinator):
    event_id = hosted["event"]["id"]
    partner_token = api.organisation_token(coordinator, organisations[1]["id"])[1]
    path = f"{EVENTS}/{event_id}/hosts"
    assert api.post(path, token=partner_token, json={"organisation_id": organisations[2]["id"]}).status_code == 403
    self_invite = api.post(path, token=hosted["owner"], json={"organisation_id": hosted["event"]["organisation_id"]})
    assert self_invite.status_code == 422 and self_invite.json["errors"][0]["field"] == "organisation_id"
    assert api.post(path, token=hosted["owner"], json={"organisation_id": organisations[1]["id"]}).status_code == 201
    again = api.post(path, token=hosted["owner"], json={"organisation_id": organisations[1]["id"]})
    assert again.status_code == 409


def test_a_campaign_keeps_its_sign_ups_as_long_as_its_coordinators_said(api, hosted):
    """A campaign's participation_keep_days (events API) reaches notify and decides when its
    events' sign-ups go: 3 days here, not the platform's 14; back to 14 when set to none."""
    from datetime import timedelta

    from services.notify import participation
    from services.notify.models import KnownCampaign
    from shared.db import utcnow

    campaign_id = hosted["event"]["campaign_id"]
    changed = api.patch(f"{CAMPAIGNS}/{campaign_id}", token=hosted["coordinator"], json={"participation_keep_days": 3})
    assert changed.status_code == 200 and changed.json["participation_keep_days"] == 3
    for wrong in (-1, 366, "a week"):
        refused = api.patch(f"{CAMPAIGNS}/{campaign_id}", token=hosted["coordinator"],
                            json={"participation_keep_days": wrong})
        assert refused.status_code == 422 and refused.json["errors"][0]["field"] == "participation_keep_days"
    kernel = api.platform.kernels["notify"]

    def told(days):
        with kernel.db.transaction() as s:
            return s.get(KnownCampaign, campaign_id).participation_keep_days == days

    wait_until(lambda: told(3), message="notify to hear the campaign's retention")
    event_id = hosted["event"]["id"]
    sign_up(api, event_id, name="Darya", show_name=True)
    with kernel.db.transaction() as s:
        s.get(KnownEvent, event_id).ends_at = utcnow() - timedelta(days=2)
    with kernel.db.transaction() as s:
        assert participation.shred(s, kernel.config, utcnow()) == 0  # ended 2 days ago: kept 3
    api.patch(f"{CAMPAIGNS}/{campaign_id}", token=hosted["coordinator"], json={"participation_keep_days": None})
    wait_until(lambda: told(None), message="notify to hear the campaign's retention is the platform's again")
    with kernel.db.transaction() as s:
        s.get(KnownEvent, event_id).ends_at = utcnow() - timedelta(days=4)
    with kernel.db.transaction() as s:
        assert participation.shred(s, kernel.config, utcnow()) == 0  # 4 days: the platform keeps 14
    api.patch(f"{CAMPAIGNS}/{campaign_id}", token=hosted["coordinator"], json={"participation_keep_days": 3})
    wait_until(lambda: told(3), message="notify to hear the campaign's retention again")
    with kernel.db.transaction() as s:
        assert participation.shred(s, kernel.config, utcnow()) == 1  # 4 days, kept 3: gone
    assert api.get(places_path(event_id), token=hosted["owner"]).json["names"] == []
