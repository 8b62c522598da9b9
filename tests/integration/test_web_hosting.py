"""The hosts' side on the web (docs/participation.md, "On the web: the hosts"): an event's host
sees its counts and the names participants chose to show, sets its places (errors under the
fields, in the reader's language), writes to the participants (the messages listed newest first,
the eleventh of a day refused in words), invites a co-host, who accepts and then sees the same
page; the door's page counts +1, −1 and a participant's code without JavaScript, and its
script's batch endpoint counts an action sent twice once."""
from __future__ import annotations

import re
import uuid

import pytest

from tests.conftest import wait_until
from tests.integration import test_web_participation
from tests.integration.conftest import ApiClient
from tests.integration.test_coarse_places import DAY_2030, WHEN
from tests.integration.test_finding_events import approved
from tests.integration.test_web_account import csrf_of, office_browser, sign_in
from tests.integration.test_web_dashboard import BROWSER, form, text_of

CAMPAIGNS = "/api/events/campaigns"
api = test_web_participation.api  # the platform on each database, its sign-ups not limited


@pytest.fixture
def event(api, coordinator, setting) -> dict:
    """An approved public event in 2030 of the first organisation, known to notify."""
    campaign = api.post(CAMPAIGNS, token=coordinator, json=DAY_2030).json
    made = approved(api, coordinator, {**setting, "campaign": campaign}, title={"en": "Rally at Uhuru Park"}, **WHEN)
    wait_until(lambda: api.get(f"/api/notify/events/{made['id']}/participation").status_code == 200,
               message="notify to know the event")
    return made


def browser(api, coordinator, organisation: dict) -> ApiClient:
    """A browser signed in as the organisation."""
    key, _ = api.organisation_token(coordinator, organisation["id"])
    signed = ApiClient(api.platform)
    assert sign_in(signed, key).status_code == 303
    return signed


@pytest.fixture
def owner(api, coordinator, setting) -> ApiClient:
    return browser(api, coordinator, setting["orgs"][0])


def sign_up(api, event_id: str, **fields) -> dict:
    answer = api.post(f"/api/notify/events/{event_id}/participants", json={"language": "en", **fields})
    assert answer.status_code == 201, answer.json
    return answer.json


def hosting(event_id: str) -> str:
    return f"/me/events/{event_id}/hosting"


def test_a_host_sees_the_counts_and_shown_names_and_sets_the_places(api, event, owner):
    sign_up(api, event["id"], party_size=2, name="Amina", show_name=True)
    sign_up(api, event["id"], party_size=1, name="Hidden Person")
    sign_up(api, event["id"], party_size=3)
    home = owner.get("/me").data.decode()
    assert f'href="{hosting(event["id"])}"' in home  # reached from the organisation's list of its events
    page = owner.get(f"{hosting(event['id'])}?lang=en")
    seen = text_of(page.data.decode())
    assert page.status_code == 200, seen
    assert "Coming 6" in seen and "Waiting list 0" in seen and "Cancelled 0" in seen and "Checked in 0" in seen
    assert "Places left no limit" in seen and "Amina (2 people)" in seen and "Hidden Person" not in seen
    office = text_of(office_browser(api).get(f"{hosting(event['id'])}?lang=en").data.decode())
    assert "Coming 6" in office and "Amina (2 people)" in office  # a coordinator sees it too

    wrong = form(owner, f"{hosting(event['id'])}/places?lang=fa", page, capacity="many", anonymous_limit="-1")
    shown = wrong.data.decode()
    assert wrong.status_code == 422
    assert 'id="places-capacity-error"' in shown and 'id="places-anonymous_limit-error"' in shown
    assert "عددی درست از ۱ تا" in shown and 'value="many"' in shown
    assert api.get(f"/api/notify/events/{event['id']}/participation").json["capacity"] is None  # nothing set

    done = form(owner, f"{hosting(event['id'])}/places", page, capacity="10", anonymous_limit="4")
    assert done.status_code == 303 and done.headers["Location"] == hosting(event["id"])
    after = owner.get(f"{hosting(event['id'])}?lang=en").data.decode()
    assert "Places saved." in after and 'name="capacity" type="number" value="10"' in after
    assert "Places left 4" in text_of(after) and "Signed up without an address 6 / 4" in text_of(after)


def test_a_host_writes_to_the_participants_and_sees_the_messages_newest_first(api, event, owner):
    page = owner.get(f"{hosting(event['id'])}?lang=en")
    empty = form(owner, f"{hosting(event['id'])}/messages?lang=en", page, text_en="  ")
    assert empty.status_code == 422 and "Write the message in the event&#39;s first language." in empty.data.decode()
    for text in ("Bring water.", "The meeting point moved to the north gate."):
        sent = form(owner, f"{hosting(event['id'])}/messages", page, text_en=text)
        assert sent.status_code == 303, sent.data.decode()
    seen = owner.get(f"{hosting(event['id'])}?lang=en").data.decode()
    assert "Message sent." in seen and seen.index("north gate") < seen.index("Bring water.")
    _, token = api.organisation_token(api.coordinator_token(), event["organisation_id"])
    for n in range(8):
        assert api.post(f"/api/notify/events/{event['id']}/messages", token=token,
                        json={"text": {"en": f"Note {n}"}}).status_code == 201
    refused = form(owner, f"{hosting(event['id'])}/messages?lang=en", page, text_en="One too many")
    assert refused.status_code == 429
    assert "Ten messages a day have been sent for this event: try again tomorrow." in refused.data.decode()
    assert 'value="One too many"' in refused.data.decode() or ">One too many</textarea>" in refused.data.decode()


def test_a_co_host_is_invited_accepts_and_then_sees_the_hosts_page(api, coordinator, setting, event, owner):
    guest = setting["orgs"][1]
    page = owner.get(f"{hosting(event['id'])}?lang=en")
    assert f'<option value="{guest["id"]}">' in page.data.decode()  # the registry's list
    other = browser(api, coordinator, guest)
    assert other.get(hosting(event["id"])).status_code == 404  # not invited: not theirs
    bad = form(owner, f"{hosting(event['id'])}/hosts?lang=en", page, organisation_id="nobody")
    assert bad.status_code == 422 and "Choose an organisation from the list." in bad.data.decode()
    invited = form(owner, f"{hosting(event['id'])}/hosts", page, organisation_id=guest["id"])
    assert invited.status_code == 303

    waiting = other.get("/me?lang=en").data.decode()  # the invited organisation finds it on its home
    assert "Invitations to host an event" in waiting and f'href="{hosting(event["id"])}"' in waiting
    invitation = other.get(f"{hosting(event['id'])}?lang=en")
    html = invitation.data.decode()
    assert invitation.status_code == 200 and "Invitation to host" in html and "Coming" not in text_of(html)
    assert other.get(f"{hosting(event['id'])}/door").status_code == 403  # not a host before it accepts
    accepted = form(other, f"{hosting(event['id'])}/hosts/{guest['id']}/acceptance", invitation)
    assert accepted.status_code == 303
    seen = text_of(other.get(f"{hosting(event['id'])}?lang=en").data.decode())
    assert "You host this event too now." in seen and "Coming 0" in seen
    wait_until(lambda: f'href="{hosting(event["id"])}"' in other.get("/me").data.decode(),
               message="the co-hosted event among the guest's own")
    guests_home = other.get("/me?lang=en").data.decode()
    assert "Co-hosted: the event of another organisation" in guests_home
    assert "Invitations to host an event" not in guests_home  # answered
    assert f'/me/events/{event["id"]}/edit' not in guests_home  # only the owner changes the event
    owners = text_of(owner.get(f"{hosting(event['id'])}?lang=en").data.decode())
    assert f"Co-hosts {guest['name']}" in owners
    public = text_of(api.get(f"/events/{event['id']}?lang=en").data.decode())  # anyone: every host
    hosts = setting["orgs"][0]
    assert (f"Hosted by {hosts['name']} ( {hosts['abbreviation']} ) {guest['name']} ( {guest['abbreviation']} )"
            in public), public[public.find("Where"):][:500]


def count_on(client, event_id: str) -> str:
    return re.search(r'id="door-count">(\d+)<', client.get(f"{hosting(event_id)}/door").data.decode()).group(1)


def test_the_door_counts_without_javascript(api, event, owner):
    coming = sign_up(api, event["id"], party_size=2)
    door = owner.get(f"{hosting(event['id'])}/door?lang=en")
    html = door.data.decode()
    assert door.status_code == 200 and 'src="/static/door.js"' in html and '<span dir="ltr">+1</span></button>' in html
    for delta in ("1", "1", "-1"):
        tapped = form(owner, f"{hosting(event['id'])}/door", door, delta=delta)
        assert tapped.status_code == 303 and tapped.headers["Location"] == f"{hosting(event['id'])}/door"
    assert count_on(owner, event["id"]) == "1"
    code = coming["code"]
    assert form(owner, f"{hosting(event['id'])}/door", door, code=f"{code[:4]}-{code[4:]}").status_code == 303
    assert count_on(owner, event["id"]) == "3"  # their party of two
    again = form(owner, f"{hosting(event['id'])}/door", door, code=code.lower())
    assert again.status_code == 303 and "Already counted." in owner.get(f"{hosting(event['id'])}/door").data.decode()
    assert count_on(owner, event["id"]) == "3"
    nobody = form(owner, f"{hosting(event['id'])}/door", door, code="ZZZZ-ZZZZ")
    assert "No sign-up for this event has this code." in owner.get(f"{hosting(event['id'])}/door").data.decode()
    assert nobody.status_code == 303
    wrong = form(owner, f"{hosting(event['id'])}/door?lang=en", door, code="<b>")
    assert wrong.status_code == 422 and 'id="door-code-error"' in wrong.data.decode()


def test_the_scripts_batch_counts_an_action_sent_twice_once(api, event, owner):
    door = owner.get(f"{hosting(event['id'])}/door")
    batch = {"actions": [{"id": str(uuid.uuid4()), "kind": "door", "delta": 1} for _ in range(3)]}
    path = f"{hosting(event['id'])}/door/actions"
    headers = {"X-CSRF-Token": csrf_of(door), "Accept": "application/json"}
    first = owner.post(path, json=batch, headers=headers)
    assert first.status_code == 200 and first.json["checked_in"] == 3 and first.json["applied"] == 3
    again = owner.post(path, json=batch, headers=headers)  # the page lost the answer: sent again
    assert again.status_code == 200 and again.json["checked_in"] == 3 and again.json["repeated"] == 3
    assert owner.post(path, json=batch, headers={"Accept": "application/json"}).status_code == 400  # no token
    assert owner.post(path, json={"actions": []}, headers=headers).status_code == 422
    assert count_on(owner, event["id"]) == "3"
    stranger = ApiClient(api.platform)
    assert stranger.post(path, json=batch, headers=BROWSER).status_code in (302, 303, 400)
