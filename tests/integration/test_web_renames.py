"""The dashboard's organisations tab lists the renames waiting, old → new, with a warning a
coordinator cannot miss when a word mixes scripts or the name looks like another organisation's."""
from __future__ import annotations

from tests.integration.test_web_account import office_browser
from tests.integration.test_web_dashboard import form, text_of

ORGS = "/api/registry/organisations"


def test_the_dashboard_lists_renames_with_warnings_and_decides_them(api, coordinator):
    org = api.register(coordinator, abbreviation="PL", name="Partido del Trabajo", name_en="Party of Labour",
                       country="ES", timezone="Europe/Madrid")
    _, token = api.organisation_token(coordinator, org["id"])
    office = office_browser(api)
    assert "Renames waiting" not in office.get("/me/organisations").data.decode()

    assert api.patch(f"{ORGS}/{org['id']}", token=token, json={"abbreviation": "РCE"}).status_code == 200  # Cyrillic Р
    api.register(coordinator, abbreviation="PCE", name="Partido Comunista de España",
                 name_en="Communist Party of Spain", country="ES", timezone="Europe/Madrid")
    page = office.get("/me/organisations")
    seen = text_of(page.data.decode())
    assert "Renames waiting 1" in seen and "PL — Partido del Trabajo" in seen
    assert "Abbreviation PL РCE" in seen  # the field, now, new
    assert "Warning: Abbreviation: “РCE” mixes letters of different alphabets that look alike." in seen
    assert ("Warning: Abbreviation looks like that of PCE — Partido Comunista de España (Spain), "
            "another organisation.") in seen

    [waiting] = api.get(f"{ORGS}/renames", token=coordinator).json["items"]
    decision = f"/me/renames/{waiting['id']}/decision"
    refused = form(office, decision, page, decision="accept")  # it looks like PCE: the registry says no
    assert refused.status_code == 409 and "looks like PCE" in text_of(refused.data.decode())
    assert form(office, decision, page, decision="reject", reason="").status_code == 422
    assert api.get(f"{ORGS}/{org['id']}").json["abbreviation"] == "PL"
    done = form(office, decision, page, decision="reject", reason="Looks like the PCE")
    assert done.status_code == 303 and done.headers["Location"].endswith("/me/organisations")
    after = text_of(office.get("/me/organisations").data.decode())
    assert "the organisation keeps its name" in after and "Renames waiting" not in after
    assert api.get(f"{ORGS}/{org['id']}").json["abbreviation"] == "PL"


def test_an_accepted_rename_is_the_name_everyone_sees(api, coordinator):
    org = api.register(coordinator, abbreviation="PL", name="Partido del Trabajo", name_en="Party of Labour",
                       country="ES", timezone="Europe/Madrid")
    _, token = api.organisation_token(coordinator, org["id"])
    api.patch(f"{ORGS}/{org['id']}", token=token, json={"name_en": "Labour Party of Spain"})
    office = office_browser(api)
    page = office.get("/me/organisations")
    seen = text_of(page.data.decode())
    assert "Name in English Party of Labour Labour Party of Spain" in seen and "Warning" not in seen
    [waiting] = api.get(f"{ORGS}/renames", token=coordinator).json["items"]
    done = form(office, f"/me/renames/{waiting['id']}/decision", page, decision="accept")
    assert done.status_code == 303
    assert "The new name is accepted" in text_of(office.get("/me/organisations").data.decode())
    assert api.get(f"{ORGS}/{org['id']}").json["name_en"] == "Labour Party of Spain"
    assert form(office, f"/me/renames/{waiting['id']}/decision", page, decision="maybe").status_code == 400
