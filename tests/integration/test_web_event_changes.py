"""On the web, a change to an approved event: the organisation is told it waits for review and
that the public sees the approved version; the public pages keep the approved city; the
coordinator's queue shows the change as a diff (old → new, in the coordinator's language) and
accepts or rejects it. SQLite and PostgreSQL."""
from __future__ import annotations

from tests.integration.test_finding_events import approved
from tests.integration.test_web_account import ApiClient, form, office_browser, sign_in
from tests.integration.test_web_area import form_values_of
from tests.integration.test_web_dashboard import text_of


def organisation_browser(api, coordinator, organisation_id: str) -> ApiClient:
    browser = ApiClient(api.platform)
    key, _ = api.organisation_token(coordinator, organisation_id)
    sign_in(browser, key)
    return browser


def test_the_public_keeps_the_approved_city_until_the_queue_accepts_the_change(api, coordinator, setting):
    event = approved(api, coordinator, setting, title={"en": "Rally at Uhuru Park"})
    campaign_page, event_page = f"/campaigns/{setting['campaign']['id']}", f"/events/{event['id']}"
    organisation = organisation_browser(api, coordinator, setting["orgs"][0]["id"])

    edit = organisation.get(f"/me/events/{event['id']}/edit")
    assert "a change you save waits for a coordinator" in text_of(edit.data.decode())
    values = form_values_of(edit.data.decode())
    saved = form(organisation, f"/me/events/{event['id']}/edit", edit,
                 **{**values, "city": "Mombasa", "start": "2022-12-01T18:00"})
    assert saved.status_code == 303
    home = text_of(organisation.get("/me").data.decode())
    assert "Your change was sent for review" in home  # the flash
    assert "Your change awaits a coordinator's review; meanwhile the public sees the approved version." in home
    assert "Changed: Start (local time), City." in home
    again = organisation.get(f"/me/events/{event['id']}/edit").data.decode()
    assert form_values_of(again)["city"] == "Mombasa" and "The form shows your waiting change" in text_of(again)

    for path in (campaign_page, event_page):
        page = api.get(path).data.decode()
        assert "Rally at Uhuru Park" in page and "Mombasa" not in page, path

    office = office_browser(api)
    queue = office.get("/me?lang=de").data.decode()
    shown = text_of(queue)
    assert "Änderungen freigegebener Veranstaltungen, die auf eine Entscheidung warten 1" in shown
    assert "Stadt Nairobi Mombasa" in shown  # the diff: field, approved, proposed
    assert "Beginn (Ortszeit) Do., 1. Dez., 17:00 Do., 1. Dez., 18:00" in shown
    assert "<del>Nairobi</del>" in queue and "<ins>Mombasa</ins>" in queue
    change = api.get(f"/api/events/events/{event['id']}", token=setting["tokens"][0]).json["pending_change"]
    decision = f"/me/events/{event['id']}/changes/{change['id']}/decision"
    assert f'action="{decision}"' in queue and 'value="approve"' in queue  # the a key's button

    unexplained = form(office, decision, office.get("/me"), decision="reject", reason="")
    assert unexplained.status_code == 422 and "Mombasa" not in api.get(event_page).data.decode()
    accepted = form(office, decision, office.get("/me"), decision="approve")
    assert accepted.status_code == 303
    assert "Die Änderung ist angenommen" in text_of(office.get("/me").data.decode())  # the reader chose German
    for path in (campaign_page, event_page):
        assert "Mombasa" in api.get(path).data.decode(), path
    assert "awaits a coordinator" not in text_of(organisation.get("/me").data.decode())


def test_the_organisation_reads_why_its_change_was_rejected(api, coordinator, setting):
    event = approved(api, coordinator, setting)
    organisation = organisation_browser(api, coordinator, setting["orgs"][0]["id"])
    edit = organisation.get(f"/me/events/{event['id']}/edit")
    form(organisation, f"/me/events/{event['id']}/edit", edit,
         **{**form_values_of(edit.data.decode()), "venue": "Kasarani stadium"})
    change = api.get(f"/api/events/events/{event['id']}", token=setting["tokens"][0]).json["pending_change"]
    office = office_browser(api)
    rejected = form(office, f"/me/events/{event['id']}/changes/{change['id']}/decision", office.get("/me"),
                    decision="reject", reason="The stadium was not granted to you.")
    assert rejected.status_code == 303
    assert "The change is rejected" in text_of(office.get("/me").data.decode())
    home = text_of(organisation.get("/me?lang=fr").data.decode())
    assert "Modification non acceptée" in home and "The stadium was not granted to you." in home
    assert "Kasarani" not in api.get(f"/events/{event['id']}").data.decode()
