"""Changes to approved events wait for a coordinator: the public, its feeds, the map and the
subscribers keep the approved version until the change is accepted; a rejection keeps it for
good and its owner sees why. SQLite and PostgreSQL."""
from __future__ import annotations

from services.events.models import EventChange
from tests.conftest import wait_until
from tests.integration import test_notify
from tests.integration.test_campaigns_api import CAMPAIGNS, events_messages, table_count
from tests.integration.test_finding_events import approved
from tests.integration.test_local_events_api import EVENTS, submit
from tests.integration.test_notify import confirmed_subscriber, known_to_notify
from tests.integration.test_notify_schedule import with_subject

api = test_notify.api  # the platform with its e-mail going to the test's SMTP server

CHANGES = f"{EVENTS}/changes"


def public_outputs(api, setting, event_id: str) -> dict[str, str]:
    """What the public reads of the event, each as text."""
    campaign = setting["campaign"]["id"]
    return {"event": api.get(f"{EVENTS}/{event_id}").get_data(as_text=True),
            "list": api.get(f"{EVENTS}?campaign_id={campaign}").get_data(as_text=True),
            "map": api.get(f"{EVENTS}/map.geojson?campaign_id={campaign}").get_data(as_text=True),
            "campaign feed": api.get(f"{CAMPAIGNS}/{campaign}/events.ics").get_data(as_text=True),
            "event feed": api.get(f"{EVENTS}/{event_id}.ics").get_data(as_text=True),
            "overview": api.get(f"{CAMPAIGNS}/{campaign}/overview").get_data(as_text=True)}


def types(api) -> list[str]:
    return [m["type"] for m in events_messages(api)]


def audited(api, action: str) -> list[dict]:
    return [m["data"] for m in events_messages(api) if m["type"] == "audit.recorded" and m["data"]["action"] == action]


def test_a_new_city_shows_nowhere_until_a_coordinator_accepts_it(api, coordinator, setting, mailbox):
    address = "follower@example.org"
    confirmed_subscriber(api, mailbox, address)  # follows Kenya
    event = approved(api, coordinator, setting, address_public="now")
    wait_until(lambda: known_to_notify(api, event["id"]), message="notify to learn of the approval")
    owner, path = setting["tokens"][0], f"{EVENTS}/{event['id']}"

    proposed = api.patch(path, token=owner, json={"city": "Mombasa", "venue": "Tononoka grounds"})
    assert proposed.status_code == 200, proposed.json
    body = proposed.json
    assert (body["city"], body["venue"], body["status"]) == ("Nairobi", "Uhuru Park", "approved")
    assert body["pending_change"]["changes"] == {"city": {"from": "Nairobi", "to": "Mombasa"},
                                                 "venue": {"from": "Uhuru Park", "to": "Tononoka grounds"}}
    for name, text in public_outputs(api, setting, event["id"]).items():
        assert "Nairobi" in text and "Mombasa" not in text and "Tononoka" not in text, name
    assert "pending_change" not in api.get(path).json  # the public is not told a change waits
    assert "event.updated" not in types(api)  # nothing on the bus: notify has nothing to mail
    assert "SEQUENCE:0" in public_outputs(api, setting, event["id"])["event feed"]

    waiting = api.get(f"{CHANGES}?status=pending", token=coordinator)
    assert waiting.status_code == 200, waiting.json
    [item] = waiting.json["items"]
    assert item["changes"]["city"] == {"from": "Nairobi", "to": "Mombasa"} and item["event"]["city"] == "Nairobi"
    assert item["event"]["id"] == event["id"] and item["status"] == "pending"
    [proposal] = audited(api, "event.change_proposed")
    assert (proposal["before"], proposal["after"]) == ({"city": "Nairobi", "venue": "Uhuru Park"},
                                                       {"city": "Mombasa", "venue": "Tononoka grounds"})

    accepted = api.post(f"{path}/changes/{item['id']}/acceptance", token=coordinator)
    assert accepted.status_code == 200, accepted.json
    assert (accepted.json["city"], accepted.json["pending_change"]) == ("Mombasa", None)
    for name, text in public_outputs(api, setting, event["id"]).items():
        assert "Mombasa" in text, name
    assert "SEQUENCE:1" in public_outputs(api, setting, event["id"])["event feed"]
    [updated] = [m["data"] for m in events_messages(api) if m["type"] == "event.updated"]
    assert set(updated["changed"]) == {"city", "venue"} and updated["city"] == "Mombasa"
    [decision] = audited(api, "event.change_accepted")
    assert decision["actor_role"] == "coordinator" and decision["after"] == {"city": "Mombasa",
                                                                             "venue": "Tononoka grounds"}
    assert api.get(f"{CHANGES}?status=pending", token=coordinator).json["items"] == []

    # The subscriber hears of the change now, once: nothing was mailed while it waited.
    wait_until(lambda: with_subject(mailbox, address, "Event changed:"), message="the change's e-mail")
    [told] = with_subject(mailbox, address, "Event changed:")
    assert "Mombasa" in told.get_body(("plain",)).get_content()


def test_a_rejected_change_leaves_the_approved_event_and_its_owner_sees_why(api, coordinator, setting):
    event = approved(api, coordinator, setting)
    owner, path = setting["tokens"][0], f"{EVENTS}/{event['id']}"
    api.patch(path, token=owner, json={"city": "Mombasa"})
    second = api.patch(path, token=owner, json={"address": "Moi Avenue 1", "start": "2022-12-01T18:00:00"}).json
    # The second builds on the first and replaces it: one change to decide, with everything.
    assert set(second["pending_change"]["changes"]) == {"city", "address", "start", "starts_at"}
    assert second["pending_change"]["changes"]["start"] == {"from": "2022-12-01T17:00:00", "to": "2022-12-01T18:00:00"}
    history = api.get(f"{CHANGES}?event_id={event['id']}", token=owner).json["items"]
    assert [c["status"] for c in history] == ["replaced", "pending"]
    # The audit log says the address changed, never where to.
    assert audited(api, "event.change_proposed")[-1]["after"]["address"] == "(not recorded)"
    change = second["pending_change"]["id"]

    for refused, status in ((api.post(f"{path}/changes/{change}/rejection", token=coordinator, json={}), 422),
                            (api.post(f"{path}/changes/{change}/rejection", token=owner, json={"reason": "x"}), 403),
                            (api.post(f"{path}/changes/{event['id']}/acceptance", token=coordinator), 404),
                            (api.post(f"{path}/changes/not-an-id/acceptance", token=coordinator), 404)):
        assert refused.status_code == status and refused.headers["Content-Type"] == "application/problem+json"
    assert api.get(path, token=owner).json["pending_change"]["id"] == change  # nothing was decided
    assert api.get(CHANGES).status_code == 401

    rejected = api.post(f"{path}/changes/{change}/rejection", token=coordinator,
                        json={"reason": "The stadium is not allowed; give the address you were granted."})
    assert rejected.status_code == 200 and rejected.json["city"] == "Nairobi"
    twice = api.post(f"{path}/changes/{change}/acceptance", token=coordinator)
    assert twice.status_code == 409 and twice.json["current_status"] == "rejected"
    seen_by_owner = api.get(path, token=owner).json
    assert seen_by_owner["pending_change"] is None and seen_by_owner["city"] == "Nairobi"
    assert seen_by_owner["rejected_change"]["reason"].startswith("The stadium is not allowed")
    mine = api.get(f"{EVENTS}?organisation_id={setting['orgs'][0]['id']}", token=owner).json["items"]
    assert mine[0]["rejected_change"]["changes"]["city"]["to"] == "Mombasa"
    assert "Mombasa" not in str(public_outputs(api, setting, event["id"]))
    assert "event.updated" not in types(api)
    [decision] = audited(api, "event.change_rejected")
    assert decision["reason"].startswith("The stadium") and decision["before"]["city"] == "Nairobi"

    # A change that ends where the approval is withdraws the pending one.
    api.patch(path, token=owner, json={"city": "Kisumu"})
    back = api.patch(path, token=owner, json={"city": "Nairobi"}).json
    assert back["pending_change"] is None, back["pending_change"]["changes"]
    assert api.get(f"{CHANGES}?status=pending", token=coordinator).json["items"] == []


def test_bad_changes_to_an_approved_event_are_refused_and_leave_nothing(api, coordinator, setting):
    event = approved(api, coordinator, setting)
    owner, path = setting["tokens"][0], f"{EVENTS}/{event['id']}"
    late = api.patch(path, token=owner, json={"end": "2022-12-01T16:30:00"})
    assert late.status_code == 422 and late.json["errors"][0]["field"] == "end"
    elsewhere = api.patch(path, token=owner, json={"timezone": "Asia/Tehran"})
    assert elsewhere.status_code == 422 and elsewhere.json["errors"][0]["field"] == "timezone"
    assert api.patch(path, token=setting["tokens"][1], json={"city": "x"}).status_code == 403
    assert api.patch(path, token=coordinator, json={"city": "x"}).status_code == 403
    assert table_count(api, EventChange) == 0
    assert api.get(f"{CHANGES}?status=maybe", token=coordinator).status_code == 422


def test_a_submitted_event_changes_at_once_and_calling_an_event_off_stays_immediate(api, coordinator, setting):
    owner = setting["tokens"][0]
    waiting = submit(api, setting).json
    moved = api.patch(f"{EVENTS}/{waiting['id']}", token=owner, json={"city": "Mombasa"}).json
    assert (moved["city"], moved["status"], moved["pending_change"]) == ("Mombasa", "submitted", None)
    assert types(api).count("event.updated") == 1

    event = approved(api, coordinator, setting)
    change = api.patch(f"{EVENTS}/{event['id']}", token=owner, json={"city": "Kisumu"}).json["pending_change"]
    cancelled = api.post(f"{EVENTS}/{event['id']}/cancellation", token=owner)
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"
    assert cancelled.json["pending_change"] is None
    too_late = api.post(f"{EVENTS}/{event['id']}/changes/{change['id']}/acceptance", token=coordinator)
    assert too_late.status_code == 409 and too_late.json["current_status"] == "withdrawn"
    assert "Kisumu" not in api.get(f"{CAMPAIGNS}/{setting['campaign']['id']}/events.ics").get_data(as_text=True)


def test_a_change_the_campaign_no_longer_allows_cannot_be_accepted(api, coordinator, setting):
    event = approved(api, coordinator, setting)
    change = api.patch(f"{EVENTS}/{event['id']}", token=setting["tokens"][0],
                       json={"start": "2022-11-28T17:00:00", "end": "2022-11-28T19:00:00"}).json["pending_change"]
    campaign = f"{CAMPAIGNS}/{setting['campaign']['id']}"
    assert api.patch(campaign, token=coordinator, json={"window_start": "2022-11-30"}).status_code == 200
    refused = api.post(f"{EVENTS}/{event['id']}/changes/{change['id']}/acceptance", token=coordinator)
    assert refused.status_code == 409 and "outside the campaign's window" in refused.json["detail"]
    assert api.get(f"{EVENTS}/{event['id']}").json["start"] == "2022-12-01T17:00:00"
    assert api.post(f"{EVENTS}/{event['id']}/changes/{change['id']}/rejection", token=coordinator,
                    json={"reason": "outside the window"}).status_code == 200


def test_two_coordinators_deciding_at_once_decide_once(api, coordinator, setting):
    from concurrent.futures import ThreadPoolExecutor

    from tests.integration.conftest import ApiClient

    event = approved(api, coordinator, setting)
    change = api.patch(f"{EVENTS}/{event['id']}", token=setting["tokens"][0],
                       json={"city": "Mombasa"}).json["pending_change"]
    path = f"{EVENTS}/{event['id']}/changes/{change['id']}/acceptance"
    with ThreadPoolExecutor(2) as pool:  # each its own client, as two browsers are
        answers = list(pool.map(lambda _: ApiClient(api.platform).post(path, token=coordinator).status_code, range(2)))
    assert sorted(answers) == [200, 409]
    assert types(api).count("event.updated") == 1 and len(audited(api, "event.change_accepted")) == 1


def test_two_changes_sent_at_once_leave_one_pending_change(api, coordinator, setting):
    from concurrent.futures import ThreadPoolExecutor

    from tests.integration.conftest import ApiClient

    event = approved(api, coordinator, setting)
    path, owner = f"{EVENTS}/{event['id']}", setting["tokens"][0]
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda city: ApiClient(api.platform).patch(path, token=owner, json={"city": city}),
                                ("Mombasa", "Kisumu")))
    assert {a.status_code for a in answers} <= {200, 409} and 200 in {a.status_code for a in answers}
    [pending] = api.get(f"{CHANGES}?status=pending", token=coordinator).json["items"]
    assert pending["changes"]["city"]["to"] in ("Mombasa", "Kisumu")
    assert api.get(path).json["city"] == "Nairobi"
