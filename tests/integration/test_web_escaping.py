"""Script and markup typed into every text field a user can fill — campaign, organisation,
event, rejection reason, report, file name, material — reach every page as text."""
from __future__ import annotations

from urllib.parse import quote

from tests.conftest import wait_until
from tests.integration.test_campaigns_api import CAMPAIGNS
from tests.integration.test_local_events_api import EVENTS, submit
from tests.integration.test_media_reports import known_to_media, send, uploaded
from tests.integration.test_media_uploads import jpeg_with_secrets
from tests.integration.test_web_account import office_browser, sign_in


def payload(field: str) -> str:
    """A different one per field, so a failure names the field; no slash, which a file name
    would lose (its path is cut off)."""
    return f'<script>alert({field})<img src=x onerror=alert({field})>'


def test_what_users_type_is_shown_as_text_on_every_page(api, coordinator, setting, media_campaign):
    campaign_id = setting["campaign"]["id"]
    fields = ["campaign_name", "campaign_description", "org_name", "org_name_en", "title", "description", "city",
              "venue", "address", "reason", "report_title", "report_text", "file_name", "material_title"]
    assert api.patch(f"{CAMPAIGNS}/{campaign_id}", token=coordinator, json={
        "name": payload("campaign_name"), "description": payload("campaign_description")}).status_code == 200
    org = api.register(coordinator, abbreviation="XSS", name=payload("org_name"), name_en=payload("org_name_en"),
                       country="KE", timezone="Africa/Nairobi")
    org_key, org_token = api.organisation_token(coordinator, org["id"])
    wait_until(lambda: api.post(f"{CAMPAIGNS}/{campaign_id}/endorsements", token=org_token, json={}).status_code
               in (201, 200, 204), message="events to know the organisation")
    event = submit(api, setting, token=org_token, title={"en": payload("title")},
                   description={"en": payload("description")}, city=payload("city"), venue=payload("venue"),
                   address=payload("address"), address_public="now").json
    assert api.post(f"{EVENTS}/{event['id']}/approval", token=coordinator).status_code == 200
    refused = submit(api, setting, token=org_token, title={"en": "Refused"}).json
    api.post(f"{EVENTS}/{refused['id']}/rejection", token=coordinator, json={"reason": payload("reason")})
    known_to_media(api, event["id"])
    photo = uploaded(api, org_token, media_campaign, consent="true", event_id=event["id"],
                     name=quote(payload("file_name")))
    report = send(api, org_token, campaign_id=media_campaign, event_id=event["id"], country="KE",
                  title={"en": payload("report_title")}, text={"en": payload("report_text")}, media_ids=[photo["id"]]).json
    material_file = uploaded(api, coordinator, media_campaign, body=jpeg_with_secrets(300, 200))
    assert api.post(f"/api/media/campaigns/{media_campaign}/materials", token=coordinator, json={
        "kind": "poster", "language": "en", "title": payload("material_title"),
        "media_id": material_file["id"]}).status_code == 201

    sign_in(api, org_key)
    office = office_browser(api)
    pages = {"organisation area": api.get("/me").data.decode(),
             "event form": api.get(f"/me/events/{event['id']}/edit").data.decode(),
             "dashboard": office.get("/me").data.decode(),
             "dashboard's campaigns": office.get("/me/campaigns").data.decode(),
             "dashboard's campaign form": office.get(f"/me/campaigns/{campaign_id}/edit").data.decode(),
             "dashboard's organisations": office.get("/me/organisations").data.decode()}
    assert api.post(f"/api/media/reports/{report['id']}/publication", token=coordinator).status_code == 200
    pages.update({"campaigns": api.get("/").data.decode(),
                  "campaign page": api.get(f"/campaigns/{campaign_id}").data.decode(),
                  "event page": api.get(f"/events/{event['id']}").data.decode()})

    shown = set()
    for name, html in pages.items():
        for field in fields:
            assert f"<script>alert({field})" not in html, f"{field} is markup on the {name}"
            assert f"<img src=x onerror=alert({field})>" not in html, f"{field} is markup on the {name}"
            if f"&lt;img src=x onerror=alert({field})&gt;" in html:
                shown.add(field)
    assert shown == set(fields)  # every field was on some page, as text
