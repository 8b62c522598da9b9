"""The coordinator dashboard does on the web what needed curl: register an organisation (its key
shown once), import a CSV file of them, open and edit a campaign; the queue says who sent each
item for which campaign; progress per country is drawn as bars. Each test looks at what a
coordinator sees."""
from __future__ import annotations

import io
import re
from html import unescape

from tests.integration.test_campaigns_api import CAMPAIGNS
from tests.integration.test_local_events_api import EVENTS, submit
from tests.integration.test_web_account import csrf_of, office_browser

CSV_HEADER = "number,abbreviation,name,name_en,country,timezone,languages,list\n"
GOOD_ROWS = ("1,PCPCI,Parti Communiste Proletarien de Côte d'Ivoire,Proletarian Communist Party of Ivory Coast,"
             "CI,Africa/Abidjan,fr,initial\n"
             "2,БКП,Българска комунистическа партия,Bulgarian Communist Party,BG,Europe/Sofia,bg,initial\n")
BAD_ROW = "3,XYZ,Somewhere,Somewhere,XX,Europe/Berlin,de,initial\n"
ORGANISATION = {"abbreviation": "MLKP", "name": "Marksist Leninist Komünist Parti",
                "name_en": "Marxist Leninist Communist Party", "country": "TR", "timezone": "Europe/Istanbul",
                "languages": ["tr", "ku"], "website": "", "contact_email": "office@mlkp.example"}
NEW_CAMPAIGN = {"name": "Day of solidarity 2030", "description": "The call.\n\nSecond paragraph.",
                "languages": ["en", "fa"], "day_of_action": "2030-05-01", "window_start": "2030-04-25",
                "window_end": "2030-05-10", "list_date": "", "status": "draft", "adoption_threshold": "",
                "participation_keep_days": "", "activity_types": ["demonstration", "rally", "lecture"]}


def text_of(html: str) -> str:
    """What a reader sees of a page: its words without the markup, spaces made one."""
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}  # a refused form comes back as a page


def form(client, path: str, page, **fields):
    """A form sent as a browser sends it, with the token of the page it is on."""
    return client.post(path, data={"csrf": csrf_of(page), **fields}, content_type="application/x-www-form-urlencoded",
                       headers=BROWSER)


def multipart(page, **fields):
    return {"data": {"csrf": csrf_of(page), **fields}, "content_type": "multipart/form-data", "headers": BROWSER}


def test_a_coordinator_registers_an_organisation_and_sees_its_key_once(api, coordinator):
    office = office_browser(api)
    page = office.get("/me/organisations")
    html = page.data.decode()
    assert page.status_code == 200 and '<a href="/me/organisations" aria-current="page">' in html
    assert '<option value="TR">Türkiye</option>' in html or '<option value="TR">Turkey</option>' in html
    assert 'value="Europe/Istanbul"' in html and 'value="ku">Kurdish</option>' in html  # chosen from lists

    wrong = form(office, "/me/organisations", page, **{**ORGANISATION, "country": "", "contact_email": "not mail"})
    assert wrong.status_code == 422
    shown = wrong.data.decode()
    assert 'class="errors" role="alert" tabindex="-1" autofocus' in shown  # the summary, focused
    assert 'id="organisation-contact_email-error"' in shown and 'id="organisation-country-error"' in shown
    assert 'aria-invalid="true"' in shown and 'value="Marksist Leninist Komünist Parti"' in shown  # typed, kept
    assert '<option value="ku" selected>' in shown
    assert api.get("/api/registry/organisations").json["items"] == []

    made = form(office, "/me/organisations", page, **ORGANISATION)
    assert made.status_code == 200 and made.headers["Cache-Control"] == "no-store"
    shown = made.data.decode()
    key = re.search(r'<input id="new-key" readonly value="([^"]+)"', shown).group(1)
    assert "Marxist Leninist Communist Party is registered." in text_of(shown)
    assert "This key is shown only this once" in shown
    token = api.token_for_key(key)  # the key works: the organisation can sign in with it
    assert api.get("/api/registry/me", token=token).json["role"] == "organisation"
    listed = office.get("/me/organisations").data.decode()
    assert "Marksist Leninist Komünist Parti" in listed and key not in listed  # listed, the key never again
    [registered] = api.get("/api/registry/organisations", token=coordinator).json["items"]
    assert (registered["languages"], registered["website"], registered["contact_email"]) == (
        ["tr", "ku"], None, "office@mlkp.example")

    again = form(office, "/me/organisations", page, **ORGANISATION)  # the same twice: the registry says no
    assert again.status_code == 409 and "already has an organisation abbreviated" in again.data.decode()
    another = form(office, f"/me/organisations/{registered['id']}/keys", page)
    second = re.search(r'<input id="new-key" readonly value="([^"]+)"', another.data.decode()).group(1)
    assert another.status_code == 200 and second != key and api.token_for_key(second)
    assert '<option value="TR">Türkei</option>' in office.get("/me/organisations?lang=de").data.decode()


def test_a_coordinator_imports_organisations_from_a_csv_file(api, coordinator):
    office = office_browser(api)
    page = office.get("/me/organisations")
    no_file = office.post("/me/organisations/import", **multipart(page))
    assert no_file.status_code == 422 and 'id="import-file-error"' in no_file.data.decode()

    def send(body: str, **fields):
        return office.post("/me/organisations/import", **multipart(
            page, file=(io.BytesIO(body.encode()), "signatories.csv"), **fields))

    refused = send(CSV_HEADER + GOOD_ROWS + BAD_ROW)
    assert refused.status_code == 422
    seen = text_of(refused.data.decode())
    assert "Nothing was imported: the file has 1 problems." in seen
    assert "4 Country Not a valid country code" in seen or re.search(r"4 Country [^<]*country", seen), seen
    assert api.get("/api/registry/organisations").json["items"] == []

    done = send(CSV_HEADER + GOOD_ROWS + BAD_ROW, skip_bad="true")
    assert done.status_code == 200
    seen = text_of(done.data.decode())
    assert "Imported: 2 created, 0 updated, 0 already registered as they are, 1 rows refused." in seen
    assert re.search(r"Refused rows Line Field Reason 4 Country", seen), seen  # the bad row, named
    names = {o["abbreviation"] for o in api.get("/api/registry/organisations").json["items"]}
    assert names == {"PCPCI", "БКП"}
    again = text_of(send(CSV_HEADER + GOOD_ROWS).data.decode())
    assert "Imported: 0 created, 0 updated, 2 already registered as they are, 0 rows refused." in again

    not_text = office.post("/me/organisations/import", **multipart(
        page, file=(io.BytesIO("abbreviation\n".encode("utf-16")), "excel.csv")))
    assert not_text.status_code == 422 and "CSV file (UTF-8): Not UTF-8." in text_of(not_text.data.decode())


def test_a_coordinator_opens_a_campaign_and_edits_it(api, coordinator):
    office = office_browser(api)
    page = office.get("/me/campaigns")
    html = page.data.decode()
    assert "No campaign yet. Open the first one below." in html
    assert 'name="activity_types" value="womens_solidarity_action" checked> Women&#39;s solidarity action' in html
    assert 'type="date"' in html

    wrong = form(office, "/me/campaigns", page, **{**NEW_CAMPAIGN, "window_end": "2030-04-01"})
    assert wrong.status_code == 422
    shown = wrong.data.decode()
    assert 'id="campaign-window_end-error"' in shown and "must not be before window_start" in shown
    assert 'value="Day of solidarity 2030"' in shown and api.get(CAMPAIGNS, token=coordinator).json["items"] == []

    opened = form(office, "/me/campaigns", page, **NEW_CAMPAIGN)
    assert opened.status_code == 303 and opened.headers["Location"].endswith("/me/campaigns")
    listing = office.get("/me/campaigns").data.decode()
    assert '<p class="notice" role="status">The campaign is created.</p>' in listing
    assert "The campaign is created." not in office.get("/me/campaigns").data.decode()  # said once
    [campaign] = api.get(CAMPAIGNS, token=coordinator).json["items"]
    assert (campaign["languages"], campaign["activity_types"], campaign["status"], campaign["list_date"]) == (
        ["en", "fa"], ["demonstration", "rally", "lecture"], "draft", None)
    assert campaign["description"] == "The call.\n\nSecond paragraph."

    edit = office.get(f"/me/campaigns/{campaign['id']}/edit")
    html = edit.data.decode()
    assert 'value="2030-05-01"' in html and 'name="activity_types" value="rally" checked' in html
    assert 'name="activity_types" value="strike">' in html  # a default not chosen, offered
    assert '<option value="draft" selected>' in html
    changed = {**NEW_CAMPAIGN, "name": "Day of solidarity 2030 (moved)", "day_of_action": "2030-05-02",
               "status": "open", "activity_types": ["rally", "strike"], "adoption_threshold": "12",
               "participation_keep_days": "3"}
    refused = form(office, f"/me/campaigns/{campaign['id']}/edit", edit, **{**changed, "adoption_threshold": "a dozen"})
    assert refused.status_code == 422 and 'id="campaign-adoption_threshold-error"' in refused.data.decode()
    saved = form(office, f"/me/campaigns/{campaign['id']}/edit", edit, **changed)
    assert saved.status_code == 303
    assert "The campaign’s changes are saved." in office.get("/me/campaigns").data.decode()
    now = api.get(f"{CAMPAIGNS}/{campaign['id']}").json
    assert (now["name"], now["day_of_action"], now["status"], now["activity_types"], now["adoption_threshold"],
            now["participation_keep_days"]) == ("Day of solidarity 2030 (moved)", "2030-05-02", "open",
                                                ["rally", "strike"], 12, 3)
    refused = form(office, f"/me/campaigns/{campaign['id']}/edit", edit, **{**changed, "participation_keep_days": "999"})
    assert refused.status_code == 422 and 'id="campaign-participation_keep_days-error"' in refused.data.decode()
    assert office.get(f"/me/campaigns/{campaign['id']}/edit?lang=fa").data.decode().count('dir="rtl"') == 1


def test_the_queue_says_who_sent_each_item_for_which_campaign_and_keeps_the_forms(api, coordinator, setting):
    waiting = submit(api, setting, title={"en": "Rally at Uhuru Park"}).json
    office = office_browser(api)
    page = office.get("/me")
    html = page.data.decode()
    item = html[html.index(f'id="item-{waiting["id"]}"'):]
    item = item[:item.index("</li>")]
    seen = text_of(item)
    assert "Organisation CPK — Communist Party of Kenya" in seen
    assert f"Campaign {setting['campaign']['name']}" in seen
    assert 'class="hint keys-help" id="queue-keys" hidden' in html and "/static/queue-keys.js" in html
    assert '<a href="/me" aria-current="page">' in html

    approved = form(office, f"/me/events/{waiting['id']}/decision", page, decision="approve")
    assert approved.status_code == 303 and approved.headers["Location"].endswith("/me")
    assert '<p class="notice" role="status">The event is approved.</p>' in office.get("/me").data.decode()
    decided = form(office, f"/me/events/{waiting['id']}/decision", page, decision="reject", reason="Too late")
    assert decided.status_code == 409  # decided already: said at the top of the page, the item gone
    shown = decided.data.decode()
    assert 'id="page-errors"' in shown and "approved" in text_of(shown[shown.index('id="page-errors"'):])


def test_progress_per_country_is_drawn_as_bars_with_names(api, coordinator, setting):
    from tests.integration.test_finding_events import approved

    approved(api, coordinator, setting)
    approved(api, coordinator, setting)
    approved(api, coordinator, setting, token=setting["tokens"][1], country="BG", city="Sofia",
             timezone="Europe/Sofia")
    html = office_browser(api).get("/me").data.decode()
    countries = html[html.index("Events per country"):]
    countries = countries[:countries.index("</ul>")]
    rows = re.findall(r'<span class="label">([^<]+)</span>\s*<span class="track" aria-hidden="true">'
                      r'<span class="bar" style="inline-size: ([\d.]+)%"></span></span>\s*'
                      r'<span class="value">(\d+)</span>', countries)
    assert rows == [("Kenya", "100.0", "2"), ("Bulgaria", "50.0", "1")]  # largest first, by name
    german = office_browser(api).get("/me?lang=de").data.decode()
    assert '<span class="label">Bulgarien</span>' in german


def test_the_hold_form_says_what_is_wrong_under_its_field(api, coordinator, setting):
    office = office_browser(api)
    page = office.get("/me/emergency")
    assert '<option value="KE">Kenya</option>' in page.data.decode()
    wrong = form(office, "/me/holds", page, country="Kenya", reason="raids", action="hold")
    assert wrong.status_code == 422 and 'id="hold-country-error"' in wrong.data.decode()
    held = form(office, "/me/holds", page, country="KE", reason="raids", action="hold")
    assert held.status_code == 303 and held.headers["Location"].endswith("/me/emergency")
    assert "The country’s events are hidden" in office.get("/me/emergency").data.decode()
    assert api.get(EVENTS, query_string={"country": "KE"}).json["items"] == []
    released = form(office, "/me/holds", page, country="KE", action="release")
    assert released.status_code == 303


def test_an_event_changed_after_the_queue_was_read_is_not_approved_unread(api, coordinator, setting):
    event_id = submit(api, setting, title={"en": "Harmless picnic"}).json["id"]
    office = office_browser(api)
    queue = office.get("/me")
    seen = re.search(rf'action="/me/events/{event_id}/decision"><input type="hidden" name="csrf" value="[^"]+">'
                     r'<input type="hidden" name="seen" value="([^"]+)">', queue.data.decode())
    assert seen, "the approval form says which version the coordinator read"
    api.patch(f"{EVENTS}/{event_id}", token=setting["tokens"][0], json={"title": {"en": "Something else"}})
    late = form(office, f"/me/events/{event_id}/decision", queue, decision="approve", seen=seen.group(1))
    shown = text_of(late.data.decode())
    assert late.status_code == 409 and "changed since you read it" in shown
    assert "Something else" in shown  # the queue as it is now, to read again
    assert api.get(f"{EVENTS}/{event_id}", token=coordinator).json["status"] == "submitted"
