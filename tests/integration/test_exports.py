"""Coordinators' exports (issue 17): every event the list's filters select, as CSV streamed or
an .xlsx spreadsheet, with what a coordinator sees; endorsements likewise. Nobody else may
export; a title written as a formula never becomes one. SQLite and PostgreSQL."""
from __future__ import annotations

import csv
import io
import zipfile

from tests.integration.test_campaigns_api import CAMPAIGNS
from tests.integration.test_finding_events import approved
from tests.integration.test_local_events_api import EVENTS, submit

EXPORT = f"{EVENTS}/export"


def rows_of(response) -> list[dict]:
    assert response.status_code == 200, response.data[:300]
    text = response.data.decode("utf-8")
    assert text.startswith("\ufeff")  # spreadsheet programs read Persian right with the mark
    return list(csv.DictReader(io.StringIO(text[1:])))


def test_coordinators_export_what_the_filters_select_with_what_they_see(api, coordinator, setting):
    hidden = approved(api, coordinator, setting, title={"fa": "تجمع", "en": "Rally"}, address_public="never",
                      visibility="coordinators")
    waiting = submit(api, setting, city="Mombasa", title={"en": "=HYPERLINK(\"http://evil.example\")"}).json
    other = approved(api, coordinator, setting, country="TZ", city="Dar es Salaam", timezone="Africa/Dar_es_Salaam")
    response = api.get(f"{EXPORT}?campaign_id={setting['campaign']['id']}&country=KE", token=coordinator)
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    rows = {row["id"]: row for row in rows_of(response)}
    assert set(rows) == {hidden["id"], waiting["id"]}  # Tanzania's is filtered out
    assert other["id"] not in rows
    assert rows[hidden["id"]]["title"] == "تجمع" and rows[hidden["id"]]["address"] == "Uhuru Park, gate 2"
    assert rows[hidden["id"]]["visibility"] == "coordinators" and rows[hidden["id"]]["organisation"]
    assert rows[waiting["id"]]["status"] == "submitted"
    assert rows[waiting["id"]]["title"] == "'=HYPERLINK(\"http://evil.example\")"  # text, never a formula

    sheet = api.get(f"{EXPORT}?format=xlsx&status=approved", token=coordinator)
    assert sheet.status_code == 200 and sheet.mimetype.endswith("spreadsheetml.sheet")
    with zipfile.ZipFile(io.BytesIO(sheet.data)) as book:
        strings = book.read("xl/sharedStrings.xml").decode() if "xl/sharedStrings.xml" in book.namelist() else ""
        cells = book.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in cells and hidden["id"] in strings + cells and waiting["id"] not in strings + cells


def test_nobody_but_coordinators_exports_and_bad_filters_are_named(api, coordinator, setting):
    organisation = setting["tokens"][0]
    assert api.get(EXPORT).status_code == 401
    assert api.get(EXPORT, token=organisation).status_code == 403
    refused = api.get(f"{EXPORT}?format=pdf", token=coordinator)
    assert refused.status_code == 422 and refused.json["errors"][0]["field"] == "format"
    assert api.get(f"{EXPORT}?limit=5", token=coordinator).status_code == 400  # not a list: no paging
    endorsements = f"{CAMPAIGNS}/{setting['campaign']['id']}/endorsements/export"
    assert api.get(endorsements, token=organisation).status_code == 403


def test_endorsements_export_with_withdrawn_ones(api, coordinator, setting):
    campaign = setting["campaign"]["id"]
    first, second = setting["tokens"]
    for token in (first, second):
        assert api.post(f"{CAMPAIGNS}/{campaign}/endorsements", token=token, json={}).status_code == 201
    org = setting["orgs"][1]["id"]
    assert api.delete(f"{CAMPAIGNS}/{campaign}/endorsements/{org}", token=second).status_code == 204
    rows = rows_of(api.get(f"{CAMPAIGNS}/{campaign}/endorsements/export", token=coordinator))
    assert [r["organisation_id"] for r in rows] == [o["id"] for o in setting["orgs"][:2]]
    assert rows[0]["withdrawn_at"] == "" and rows[1]["withdrawn_at"] != "" and rows[0]["organisation"]
