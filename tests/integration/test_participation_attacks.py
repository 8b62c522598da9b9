"""An attacker's and a careless user's view of participation (docs/participation.md): what
must not leak, what must not be double counted, what must not crash."""
from __future__ import annotations

import logging
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select
from werkzeug.test import Client

from tests.integration import test_participation
from tests.integration.conftest import ApiClient
from tests.integration.test_participation import door, places_path, sign_up

hosted = test_participation.hosted  # the same approved event of 2027, as a fixture of this module too

P = "/api/notify/participations"


@pytest.fixture(params=["sqlite", "postgres"])
def api(request, make_platform):
    return ApiClient(make_platform(db=request.param, PARTICIPATE_RATE_LIMIT="10000/minute",
                                   PUBLIC_URL="http://doa.test", NOTIFY_LINK_SECRET="a secret for the attacks' tests"))


def _counts(api, event_id):
    c = api.get(places_path(event_id)).json
    return c["coming"], c["waiting"]


def test_the_public_count_does_not_tell_whether_an_address_signed_up_before(api, hosted):
    event_id = hosted["event"]["id"]
    assert sign_up(api, event_id, email="activist@example.org").status_code == 202  # the victim
    before = _counts(api, event_id)
    assert sign_up(api, event_id, email="activist@example.org").status_code == 202  # the attacker probes
    after_known = _counts(api, event_id)
    assert sign_up(api, event_id, email="stranger@example.org").status_code == 202
    after_new = _counts(api, event_id)
    assert (after_known[0] - before[0]) == (after_new[0] - after_known[0])


def test_a_cancelled_sign_up_is_not_counted_at_the_door(api, hosted):
    made = sign_up(api, hosted["event"]["id"], party_size=4).json
    api.post(f"{P}/{made['key']}/cancellation")
    answer = door(api, hosted, {"id": str(uuid.uuid4()), "kind": "participant", "code": made["code"]}).json
    assert answer["checked_in"] == 0


def test_the_door_never_counts_below_zero(api, hosted):
    answer = door(api, hosted, *[{"id": str(uuid.uuid4()), "kind": "door", "delta": -1} for _ in range(3)]).json
    assert answer["checked_in"] == 0


@pytest.mark.parametrize("suffix,method", [("/", "GET"), ("/erasure", "GET"), ("", "PUT"), ("/event.ics/x", "GET")])
def test_a_request_log_never_carries_a_key_even_for_a_path_that_is_not_a_route(api, hosted, caplog, suffix, method):
    key = sign_up(api, hosted["event"]["id"]).json["key"]
    with caplog.at_level(logging.DEBUG):
        response = api.request(method, f"{P}/{key}{suffix}")
    assert response.status_code in (404, 405)
    assert key not in caplog.text


def _pg(api):
    if api.platform.kernels["notify"].db.engine.dialect.name != "postgresql":
        pytest.skip("concurrency of PostgreSQL's row locks")


def _at_once(api, n, call):
    def one(_):
        return call(Client(api.platform.wsgi))
    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(one, range(n)))


def test_cancelling_twice_at_once_frees_the_places_once(api, hosted):
    _pg(api)
    event_id = hosted["event"]["id"]
    api.patch(places_path(event_id), token=hosted["owner"], json={"capacity": 10})
    keys = [sign_up(api, event_id, party_size=5).json["key"] for _ in range(2)]
    _at_once(api, 8, lambda c: c.post(f"{P}/{keys[0]}/cancellation").status_code)
    counts = api.get(places_path(event_id), token=hosted["owner"]).json
    assert (counts["coming"], counts["cancelled"], counts["places_left"]) == (5, 5, 5)


def test_hosts_sending_at_once_still_send_at_most_ten_a_day(api, hosted):
    _pg(api)
    path = f"/api/notify/events/{hosted['event']['id']}/messages"
    answers = _at_once(api, 20, lambda c: c.post(path, json={"text": {"en": "north gate"}}, headers={
        "Authorization": f"Bearer {hosted['owner']}"}).status_code)
    assert answers.count(201) <= 10


def test_a_participant_checked_in_from_two_phones_at_once_counts_once(api, hosted):
    _pg(api)
    made = sign_up(api, hosted["event"]["id"], party_size=3).json
    path = f"/api/notify/events/{hosted['event']['id']}/check-ins"
    _at_once(api, 8, lambda c: c.post(path, json={"actions": [{"id": str(uuid.uuid4()), "kind": "participant",
                                                               "key": made["key"]}]},
                                      headers={"Authorization": f"Bearer {hosted['owner']}"}).status_code)
    assert api.get(places_path(hosted["event"]["id"]), token=hosted["owner"]).json["checked_in"] == 3


def _notify(api):
    return api.platform.kernels["notify"]


def _subscriptions(api, email):
    from sqlalchemy import func, select

    from services.notify.models import Subscription
    with _notify(api).db.transaction() as s:
        return s.execute(select(func.count()).select_from(Subscription).where(Subscription.email == email)).scalar_one()


def _key_of(api, email):
    from sqlalchemy import select

    from services.notify.links import Links
    from services.notify.models import Participation
    config = _notify(api).config
    with _notify(api).db.transaction() as s:
        pid = s.execute(select(Participation.id).where(Participation.email == email)).scalar_one()
    return Links(config.NOTIFY_LINK_SECRET, config).participation_key(pid)


def test_one_who_cancelled_can_sign_up_again_with_the_same_address(api, hosted):
    event_id = hosted["event"]["id"]
    sign_up(api, event_id, email="mina@example.org")
    assert api.post(f"{P}/{_key_of(api, 'mina@example.org')}/cancellation").json["status"] == "cancelled"
    assert sign_up(api, event_id, email="mina@example.org").status_code == 202
    from services.notify.models import Participation

    with _notify(api).db.transaction() as s:  # a new sign-up, waiting for its address to be confirmed
        statuses = s.execute(select(Participation.status).where(Participation.email == "mina@example.org")
                             .order_by(Participation.seq)).scalars().all()
    assert statuses == ["cancelled", "unconfirmed"]


def test_signing_up_again_after_the_confirmation_expired_sends_a_new_one(api, hosted):
    from datetime import timedelta

    from services.notify import subscriptions as subs
    from shared.db import utcnow
    event_id = hosted["event"]["id"]
    sign_up(api, event_id, email="squatted@example.org", party_size=20, name="someone else", show_name=True)
    with _notify(api).db.transaction() as s:
        assert subs.purge(s, _notify(api).config, utcnow() + timedelta(days=3)) == 1
    assert _subscriptions(api, "squatted@example.org") == 0
    assert sign_up(api, event_id, email="squatted@example.org").status_code == 202  # the owner, days later
    assert _subscriptions(api, "squatted@example.org") == 1  # pending: its confirmation is on its way


ODD_BODIES = [
    {"party_size": "2"}, {"party_size": 2.5}, {"party_size": True}, {"party_size": 10**30}, {"party_size": -1},
    {"party_size": None}, {"name": "\x00"}, {"name": "a" * 10000}, {"name": ["x"]}, {"email": "a@b"},
    {"email": "\u00e9@\u00e9.fr"}, {"email": "x" * 400 + "@example.org"}, {"email": None}, {"email": ""},
    {"language": "zz"}, {"language": None}, {"timezone": "Mars/Base"}, {"show_name": "yes"}, {"extra": 1},
    {"email": " Mixed@Example.ORG "},
]


def test_odd_sign_ups_are_answered_never_with_a_server_error(api, hosted):
    for body in ODD_BODIES:
        response = api.post(f"/api/notify/events/{hosted['event']['id']}/participants",
                            json={"language": "en", **body})
        assert response.status_code in (201, 202, 409, 422), (body, response.json)


def test_odd_keys_open_nothing_and_crash_nothing(api, hosted):
    for key in ["%00" * 43, "a" * 5000, "..%2F..%2Fetc%2Fpasswd", "%C3%A9" * 43, "A" * 42 + "=", "+" * 43,
                "%2F" * 43, " " * 43]:
        for method, suffix in (("GET", ""), ("DELETE", ""), ("POST", "/cancellation"), ("GET", "/event.ics")):
            assert api.request(method, f"{P}/{key}{suffix}").status_code in (308, 404, 405), (key, method, suffix)


def test_odd_door_actions_are_answered_never_with_a_server_error(api, hosted):
    for action in [{"kind": "participant"}, {"kind": "participant", "key": "\u00e9" * 43},
                   {"kind": "participant", "code": "ß" * 10}, {"kind": "door", "delta": 0},
                   {"kind": "door", "delta": 10**20}, {"kind": "door", "at": "9999-12-31T23:59:59+00:00"},
                   {"kind": "nope"}]:
        response = door(api, hosted, {"id": str(uuid.uuid4()), **action})
        assert response.status_code in (200, 422), (action, response.json)


def test_a_short_code_with_a_nul_byte_is_unknown_not_a_server_error(api, hosted):
    _pg(api)
    response = door(api, hosted, {"id": str(uuid.uuid4()), "kind": "participant", "code": "ABCD\x00EFG"})
    assert response.status_code in (200, 422)


def test_erasing_a_sign_up_removes_every_subscription_of_its_address(api, hosted):
    from sqlalchemy import func, select

    from services.notify.models import Erasures, Subscription
    sign_up(api, hosted["event"]["id"], email="reza@example.org")
    with _notify(api).db.transaction() as s:
        s.add(Subscription(email="reza@example.org", language="en", scope="city", scope_id="KE/nairobi",
                           wants=["new_events"], status="confirmed"))
    assert api.delete(f"{P}/{_key_of(api, 'reza@example.org')}").status_code == 204
    with _notify(api).db.transaction() as s:
        left = s.execute(select(func.count()).select_from(Subscription)
                         .where(Subscription.email == "reza@example.org")).scalar_one()
        erasures = s.get(Erasures, 1)
    assert left == 0 and erasures is not None and erasures.count == 1
