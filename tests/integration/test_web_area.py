"""The organisation area and the dashboard beyond the first steps: editing an event with the
rules' errors beside the fields, the material package published from the dashboard,
signatories over time; and no cookie for a mere reader."""
from __future__ import annotations

import io
import re

from tests.integration.test_local_events_api import EVENTS, submit
from tests.integration.test_media_uploads import jpeg_with_secrets, processed
from tests.integration.test_web_account import csrf_of, form, office_browser, sign_in


def form_values_of(html: str) -> dict:
    """What a browser would send of a form: its fields' values and the options chosen in its lists."""
    values = dict(re.findall(r'<input id="f-[a-z_]+" name="([a-z_]+)" type="[a-z-]+" value="([^"]*)"', html))
    for name, options in re.findall(r'<select id="f-([a-z_]+)" name="[a-z_]+"[^>]*>(.*?)</select>', html, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected>', options)
        values[name] = chosen.group(1) if chosen else ""
    return values


def test_an_organisation_edits_its_event_and_sees_the_rules_beside_the_fields(api, coordinator, setting):
    mine = submit(api, setting, title={"en": "Rally", "sw": "Mkutano"}, languages=["en", "sw"]).json
    org_key, _ = api.organisation_token(coordinator, setting["orgs"][0]["id"])
    sign_in(api, org_key)
    home = api.get("/me").data.decode()
    assert f'href="/me/events/{mine["id"]}/edit"' in home
    german = api.get("/me/reports?lang=de").data.decode()  # the area speaks the reader's language, the script's words too
    assert ">Einen Bericht senden</h2>" in german and 'data-msg-sending="{name} wird gesendet…"' in german
    page = api.get(f"/me/events/{mine['id']}/edit")
    html = page.data.decode()
    assert page.status_code == 200 and 'id="f-title"' in html and 'value="Rally"' in html
    assert 'value="Africa/Nairobi"' in html and 'value="2022-12-01T17:00"' in html
    values = form_values_of(html)
    assert (values["country"], values["activity_type"], values["language"]) == ("KE", "rally", "en")  # lists, chosen
    wrong = form(api, f"/me/events/{mine['id']}/edit", page, **{**values, "timezone": "Europe/Berlin",
                                                                  "title": "Rally moved"})
    assert wrong.status_code == 422
    wrong_html = wrong.data.decode()
    assert 'id="f-timezone-error"' in wrong_html and 'aria-invalid="true"' in wrong_html
    assert 'value="Rally moved"' in wrong_html  # what was typed stays
    assert api.get(f"{EVENTS}/{mine['id']}", token=setting["tokens"][0]).json["titles"]["en"] == "Rally"  # unchanged
    saved = form(api, f"/me/events/{mine['id']}/edit", page, **{**values, "title": "Rally moved", "city": "Mombasa"})
    assert saved.status_code == 303
    now = api.get(f"{EVENTS}/{mine['id']}", token=setting["tokens"][0]).json
    assert (now["titles"], now["city"]) == ({"en": "Rally moved", "sw": "Mkutano"}, "Mombasa")  # Swahili kept


def test_an_event_of_another_organisation_cannot_be_edited(api, coordinator, setting):
    theirs = submit(api, setting, token=setting["tokens"][1]).json
    org_key, _ = api.organisation_token(coordinator, setting["orgs"][0]["id"])
    sign_in(api, org_key)
    page = api.get("/me")
    assert api.get(f"/me/events/{theirs['id']}/edit").status_code == 404
    refused = form(api, f"/me/events/{theirs['id']}/edit", page, title="Mine now", language="en")
    assert refused.status_code == 404
    assert api.get(f"{EVENTS}/{theirs['id']}", token=setting["tokens"][1]).json["title"] != "Mine now"
    office = office_browser(api)
    assert office.get(f"/me/events/{theirs['id']}/edit").status_code == 403


def test_the_dashboard_publishes_the_material_package(api, coordinator, setting, media_campaign):
    office = office_browser(api)
    assert "No one has signed yet." in office.get("/me").data.decode()
    for token in setting["tokens"]:
        api.post(f"/api/events/campaigns/{media_campaign}/endorsements", token=token, json={})
    page = office.get("/me")
    html = page.data.decode()
    assert 'aria-label="Signatories over time: 2 (' in html and "<td>2</td>" in html  # the chart, and its table
    missing = office.post(f"/me/campaigns/{media_campaign}/material-files", data={"csrf": csrf_of(page)},
                          content_type="multipart/form-data")
    assert missing.status_code == 422
    sent = office.post(f"/me/campaigns/{media_campaign}/material-files", data={
        "csrf": csrf_of(page), "file": (io.BytesIO(jpeg_with_secrets(400, 300)), "poster.jpg")},
        content_type="multipart/form-data")
    assert sent.status_code == 303
    items = api.get("/api/media/media", token=coordinator, query_string={"campaign_id": media_campaign}).json["items"]
    upload = processed(api, coordinator, f"/api/media/media/{items[0]['id']}")
    assert upload["status"] == "processed"
    page = office.get("/me/campaigns")  # the package is on the campaigns' tab
    assert f'name="media_id" value="{upload["id"]}"' in page.data.decode()
    wrong = form(office, f"/me/campaigns/{media_campaign}/materials", page, media_id=upload["id"], title="Poster",
                 kind="poster", language="not a language")
    assert wrong.status_code == 422 and api.get(f"/api/media/campaigns/{media_campaign}/materials").json[
        "items"] == []
    published = form(office, f"/me/campaigns/{media_campaign}/materials", page, media_id=upload["id"],
                     title="Poster", kind="poster", language="en")
    assert published.status_code == 303
    materials = api.get(f"/api/media/campaigns/{media_campaign}/materials").json["items"]
    assert [(m["title"], m["kind"], m["version"]) for m in materials] == [("Poster", "poster", 1)]
    assert "Poster" in api.get(f"/campaigns/{media_campaign}").data.decode()


def test_organisations_may_not_use_the_dashboards_forms(api, coordinator, setting):
    from tests.integration.test_finding_events import approved

    shown = approved(api, coordinator, setting)
    org_key, _ = api.organisation_token(coordinator, setting["orgs"][0]["id"])
    sign_in(api, org_key)
    page = api.get("/me")
    assert form(api, "/me/holds", page, country="KE", action="hold").status_code == 403
    assert [e["id"] for e in api.get(EVENTS).json["items"]] == [shown["id"]]  # no hold was made


def test_a_reader_of_the_public_site_gets_no_cookie(api, setting):
    for path in ("/", f"/campaigns/{setting['campaign']['id']}"):
        assert "Set-Cookie" not in api.get(path).headers
    assert "doa_session" in api.get("/signin").headers.get("Set-Cookie", "")  # a form that needs its token


def test_the_dashboard_shows_a_reports_photos_and_refuses_one(api, coordinator, setting, media_campaign):
    from tests.integration.test_finding_events import approved
    from tests.integration.test_media_reports import known_to_media, send, uploaded

    token = setting["tokens"][0]
    event = known_to_media(api, approved(api, coordinator, setting)["id"])
    keep = uploaded(api, token, media_campaign, consent="true", event_id=event, name="crowd.jpg")
    refuse = uploaded(api, token, media_campaign, consent="true", event_id=event, name="face.jpg",
                      body=jpeg_with_secrets(900, 700))
    report = send(api, token, campaign_id=media_campaign, event_id=event, media_ids=[keep["id"], refuse["id"]]).json
    office = office_browser(api)
    page = office.get("/me")
    html = page.data.decode()
    assert f'src="/me/media/{refuse["id"]}/preview"' in html
    preview = office.get(f"/me/media/{refuse['id']}/preview")
    assert preview.status_code == 200 and preview.mimetype == "image/jpeg" and preview.data[:3] == b"\xff\xd8\xff"
    assert "no-store" in preview.headers["Cache-Control"]
    org_key, _ = api.organisation_token(coordinator, setting["orgs"][0]["id"])
    sign_in(api, org_key)
    assert api.get(f"/me/media/{refuse['id']}/preview").status_code == 403  # the dashboard's, not the area's

    blank = form(office, f"/me/media/{refuse['id']}/decision", page, reason=" ")
    assert blank.status_code == 422 and api.get(f"/api/media/media/{refuse['id']}", token=token).json[
        "status"] == "processed"
    refused = form(office, f"/me/media/{refuse['id']}/decision", page, reason="A face that must not be seen")
    assert refused.status_code == 303
    assert form(office, f"/me/reports/{report['id']}/decision", office.get("/me"), decision="publish").status_code \
        == 303
    public = api.get(f"/api/media/reports/{report['id']}").json
    assert [m["id"] for m in public["media"]] == [keep["id"]]
    area = api.get("/me/reports").data.decode()  # the organisation sees why, with its reports
    assert "A face that must not be seen" in area


def test_a_refused_report_comes_back_as_it_was_typed(api, coordinator, setting, media_campaign):
    org_key, _ = api.organisation_token(coordinator, setting["orgs"][0]["id"])
    sign_in(api, org_key)
    page = api.get("/me/reports")
    refused = form(api, "/me/reports", page, campaign_id=media_campaign, title="", text="Thousands came.",
                   country="KE", language="en", turnout="many", consent="on",
                   media_ids="00000000-0000-4000-8000-000000000001")
    html = refused.data.decode()
    assert refused.status_code == 422 and 'id="r-errors"' in html and "autofocus" in html
    assert "Thousands came." in html and 'value="many"' in html  # nothing typed is lost
    assert 'name="media_ids" value="00000000-0000-4000-8000-000000000001"' in html  # files sent stay attached
    assert api.get("/api/media/reports", token=setting["tokens"][0]).json["items"] == []  # nothing was made


def test_a_report_is_sent_in_the_forms_language_and_read_in_the_readers(api, coordinator, setting, media_campaign):
    """The form asks one title, text and language, as before; the campaign page shows each
    reader the report in their language where it has one, else as it was written."""
    org_key, _ = api.organisation_token(coordinator, setting["orgs"][0]["id"])
    sign_in(api, org_key)
    sent = form(api, "/me/reports", api.get("/me/reports"), campaign_id=media_campaign, country="KE", language="fa",
                title="راهپیمایی در نایروبی", text="دو هزار نفر آمدند.", turnout="2000")
    assert sent.status_code == 303
    token = setting["tokens"][0]
    [report] = api.get("/api/media/reports", token=token).json["items"]
    assert (report["titles"], report["texts"], report["languages"]) == \
        ({"fa": "راهپیمایی در نایروبی"}, {"fa": "دو هزار نفر آمدند."}, ["fa"])
    translated = api.patch(f"/api/media/reports/{report['id']}", token=token, json={
        "title": {**report["titles"], "en": "Nairobi marched"}, "text": {**report["texts"], "en": "Two thousand came."}})
    assert translated.status_code == 200, translated.json
    assert api.post(f"/api/media/reports/{report['id']}/publication", token=coordinator).status_code == 200
    pages = {code: api.get(f"/campaigns/{media_campaign}?lang={code}").data.decode() for code in ("en", "fa", "de")}
    assert "Nairobi marched" in pages["en"] and "Two thousand came." in pages["en"]
    assert "راهپیمایی در نایروبی" not in pages["en"]
    assert '<bdi lang="fa">راهپیمایی در نایروبی</bdi>' in pages["fa"] and "Nairobi marched" not in pages["fa"]
    assert "راهپیمایی در نایروبی" in pages["de"]  # no German: as it was written

def test_odd_times_and_letters_get_their_field_not_a_500(api, coordinator, setting):
    org_key, _ = api.organisation_token(coordinator, setting["orgs"][0]["id"])
    sign_in(api, org_key)
    page = api.get("/me/events/new")
    far = form(api, "/me/events", page, campaign_id=setting["campaign"]["id"], title="Rally", language="en",
               activity_type="rally", city="Nairobi", country="KE", timezone="Africa/Nairobi", start="9999-12-31T23:00")
    assert far.status_code == 422 and 'id="f-errors"' in far.data.decode()
    office = office_browser(api)
    eszett = form(office, "/me/holds", office.get("/me/emergency"), country="ß", action="hold")
    # "ß".upper() is "SS": South Sudan was put on hold; now the letter is refused under its field.
    assert eszett.status_code == 422 and 'id="hold-country-error"' in eszett.data.decode()
