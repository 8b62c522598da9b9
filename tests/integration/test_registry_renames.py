"""No impersonation by renaming: look-alike names refused, an organisation's own rename kept for
a coordinator while everyone sees the approved name; on SQLite and PostgreSQL."""
from __future__ import annotations

import json
from datetime import date, timedelta

from sqlalchemy import func, select, text

from services.platform import SPECS
from services.registry.lookalikes import lookalike_key
from services.registry.models import Organisation, OrganisationRename
from shared.db import Database
from shared.migrations import upgrade
from tests.conftest import wait_until
from tests.integration.test_campaigns_api import CAMPAIGN_2022, CAMPAIGNS

ORGS = "/api/registry/organisations"
RENAMES = f"{ORGS}/renames"
KENYA = {"abbreviation": "CPK", "name": "Communist Party of Kenya", "name_en": "Communist Party of Kenya",
         "country": "KE", "timezone": "Africa/Nairobi"}


def registry_messages(api, kind: str) -> list[dict]:
    kernel = api.platform.kernels["registry"]
    outbox = kernel.tables["outbox"]
    with kernel.db.transaction() as s:
        bodies = [json.loads(b) for b in s.execute(select(outbox.c.body).order_by(outbox.c.seq)).scalars()]
    return [b["data"] for b in bodies if b["type"] == kind]


def registry_state(api) -> tuple:
    """Everything a refused request must leave as it was."""
    kernel = api.platform.kernels["registry"]
    with kernel.db.transaction() as s:
        orgs = s.execute(select(Organisation.id, Organisation.abbreviation, Organisation.name,
                                Organisation.name_en, Organisation.country).order_by(Organisation.id)).all()
        renames = s.execute(select(func.count()).select_from(OrganisationRename)).scalar_one()
        messages = s.execute(select(func.count()).select_from(kernel.tables["outbox"])).scalar_one()
    return [tuple(o) for o in orgs], renames, messages


def the_impostor(api, coordinator) -> tuple[dict, str]:
    """A real signatory (CPK, Kenya), and another organisation with a token of its own."""
    api.register(coordinator, **KENYA)
    return the_impostor_only(api, coordinator)


def test_the_attack_a_rename_to_a_signatorys_name_with_a_cyrillic_abbreviation_is_refused(api, coordinator):
    impostor, token = the_impostor(api, coordinator)
    before = registry_state(api)
    for body in ({**KENYA, "abbreviation": "СРК"},                        # the attack itself: Cyrillic С, Р, К
                 {"abbreviation": "СРК", "country": "KE"},                 # the abbreviation alone
                 {"name": "Communist Party of Kenya"},                     # the name alone, in any country
                 {"name_en": "Cоmmunist Pаrty of Kenya"},                  # with a Cyrillic о and а
                 {"name": "Communist\u200d Party of Kenya"}):              # with an invisible joiner
        response = api.patch(f"{ORGS}/{impostor['id']}", token=token, json=body)
        assert response.status_code == 409, body
        assert response.headers["Content-Type"] == "application/problem+json"
        assert response.json["looks_like"]["abbreviation"] == "CPK" and "CPK" in response.json["detail"]
        assert response.json["errors"][0]["field"] in body
        assert registry_state(api) == before  # nothing changed, nothing announced, nothing held


def test_a_coordinator_cannot_register_a_look_alike_either(api, coordinator):
    api.register(coordinator, **KENYA)
    before = registry_state(api)
    for body in ({**KENYA, "abbreviation": "CΡK", "name": "Kenya Party", "name_en": "Kenya Party"},  # Greek Ρ
                 {**KENYA, "abbreviation": "KCP", "name": "Communist Party of Kenya", "country": "UG"}):
        response = api.post(ORGS, token=coordinator, json={**body, "timezone": "Africa/Nairobi"})
        assert response.status_code == 409 and response.json["looks_like"]["country"] == "KE"
    assert registry_state(api) == before
    # an abbreviation of the same letters in another country is another organisation
    api.register(coordinator, abbreviation="CPK", name="Chama cha Kazi", name_en="Party of Work", country="TZ",
                 timezone="Africa/Dar_es_Salaam")


def test_a_rename_waits_for_a_coordinator_and_the_public_keeps_the_approved_name(api, coordinator):
    org = api.register(coordinator, abbreviation="PL", name="Partido del Trabajo", name_en="Party of Labour",
                       country="ES", timezone="Europe/Madrid")
    _, token = api.organisation_token(coordinator, org["id"])
    path = f"{ORGS}/{org['id']}"
    answer = api.patch(path, token=token, json={"name": "Partido Comunista del Trabajo", "website": "https://pl.example"})
    assert answer.status_code == 200
    assert answer.json["name"] == "Partido del Trabajo" and answer.json["website"] == "https://pl.example"
    assert answer.json["pending_rename"]["proposed"] == {"name": "Partido Comunista del Trabajo"}
    public = api.get(path).json
    assert public["name"] == "Partido del Trabajo" and "pending_rename" not in public
    assert [o["name"] for o in api.get(ORGS).json["items"]] == ["Partido del Trabajo"]
    assert all("name" not in m["changed"] for m in registry_messages(api, "organisation.updated"))
    # a second change joins the first; the abbreviation too waits
    api.patch(path, token=token, json={"abbreviation": "PCT"})
    [waiting] = api.get(RENAMES, token=coordinator).json["items"]
    assert waiting["proposed"] == {"name": "Partido Comunista del Trabajo", "abbreviation": "PCT"}
    assert waiting["before"] == {"name": "Partido del Trabajo", "abbreviation": "PL"} and waiting["warnings"] == []
    assert api.get(RENAMES, token=token).status_code == 403
    assert api.post(f"{RENAMES}/{waiting['id']}/acceptance", token=token).status_code == 403

    accepted = api.post(f"{RENAMES}/{waiting['id']}/acceptance", token=coordinator)
    assert accepted.status_code == 200 and accepted.json["status"] == "accepted"
    public = api.get(path).json
    assert (public["abbreviation"], public["name"]) == ("PCT", "Partido Comunista del Trabajo")
    assert registry_messages(api, "organisation.updated")[-1]["name"] == "Partido Comunista del Trabajo"
    assert api.post(f"{RENAMES}/{waiting['id']}/acceptance", token=coordinator).status_code == 409
    actions = [m["action"] for m in registry_messages(api, "audit.recorded")]
    assert "organisation.rename_proposed" in actions and "organisation.rename_accepted" in actions


def test_a_rejected_rename_leaves_the_name_and_says_why(api, coordinator):
    org = api.register(coordinator, abbreviation="PL", name="Partido del Trabajo", name_en="Party of Labour",
                       country="ES", timezone="Europe/Madrid")
    _, token = api.organisation_token(coordinator, org["id"])
    api.patch(f"{ORGS}/{org['id']}", token=token, json={"country": "PT"})
    [waiting] = api.get(RENAMES, token=coordinator).json["items"]
    before = registry_state(api)
    for body in ({}, {"reason": ""}, {"reason": 5}):
        refused = api.post(f"{RENAMES}/{waiting['id']}/rejection", token=coordinator, json=body)
        assert refused.status_code == 422 and refused.json["errors"][0]["field"] == "reason"
    assert registry_state(api) == before
    rejected = api.post(f"{RENAMES}/{waiting['id']}/rejection", token=coordinator, json={"reason": "Not in Portugal"})
    assert rejected.status_code == 200 and rejected.json["reason"] == "Not in Portugal"
    assert api.get(f"{ORGS}/{org['id']}").json["country"] == "ES"
    assert api.get(RENAMES, token=coordinator).json["items"] == []
    assert [r["id"] for r in api.get(f"{RENAMES}?status=rejected", token=coordinator).json["items"]] == [waiting["id"]]
    [audit] = [m for m in registry_messages(api, "audit.recorded") if m["action"] == "organisation.rename_rejected"]
    assert audit["reason"] == "Not in Portugal" and audit["after"] == {"country": "PT"}
    assert api.post(f"{RENAMES}/00000000-0000-4000-8000-000000000000/rejection", token=coordinator,
                    json={"reason": "x"}).status_code == 404
    assert api.get(f"{RENAMES}?status=maybe", token=coordinator).status_code == 422


def test_a_mixed_script_name_is_flagged_and_a_look_alike_registered_meanwhile_is_refused(api, coordinator):
    org = api.register(coordinator, abbreviation="PL", name="Partido del Trabajo", name_en="Party of Labour",
                       country="ES", timezone="Europe/Madrid")
    _, token = api.organisation_token(coordinator, org["id"])
    assert api.patch(f"{ORGS}/{org['id']}", token=token, json={"abbreviation": "РCE"}).status_code == 200
    [waiting] = api.get(RENAMES, token=coordinator).json["items"]
    assert waiting["warnings"] == [{"kind": "mixed_script", "field": "abbreviation", "words": ["РCE"]}]
    # meanwhile a coalition member registers as PCE in Spain: the rename now looks like it
    pce = api.register(coordinator, abbreviation="PCE", name="Partido Comunista de España",
                       name_en="Communist Party of Spain", country="ES", timezone="Europe/Madrid")
    [waiting] = api.get(RENAMES, token=coordinator).json["items"]
    assert {"kind": "looks_like", "field": "abbreviation", "organisation": {
        "id": pce["id"], "abbreviation": "PCE", "name": "Partido Comunista de España",
        "name_en": "Communist Party of Spain", "country": "ES"}} in waiting["warnings"]
    refused = api.post(f"{RENAMES}/{waiting['id']}/acceptance", token=coordinator)
    assert refused.status_code == 409 and refused.json["looks_like"]["id"] == pce["id"]
    assert api.get(f"{ORGS}/{org['id']}").json["abbreviation"] == "PL"


def test_a_coordinators_own_edit_applies_at_once_and_is_on_record(api, coordinator):
    org = api.register(coordinator, abbreviation="PL", name="Partido del Trabajo", name_en="Party of Labour",
                       country="ES", timezone="Europe/Madrid")
    answer = api.patch(f"{ORGS}/{org['id']}", token=coordinator, json={"name_en": "Labour Party"})
    assert answer.status_code == 200 and answer.json["name_en"] == "Labour Party"
    assert answer.json["pending_rename"] is None
    assert api.get(RENAMES, token=coordinator).json["items"] == []
    [audit] = [m for m in registry_messages(api, "audit.recorded") if m["action"] == "organisation.renamed"]
    assert audit["before"] == {"name_en": "Party of Labour"} and audit["after"] == {"name_en": "Labour Party"}


def test_the_signatory_list_never_shows_one_party_twice(api, coordinator):
    api.platform.start_workers()
    cpk = api.register(coordinator, **KENYA)
    impostor, impostor_token = the_impostor_only(api, coordinator)
    today = date.today()
    campaign = api.post(CAMPAIGNS, token=coordinator, json={
        **CAMPAIGN_2022, "day_of_action": (today + timedelta(days=3)).isoformat(),
        "window_start": (today - timedelta(days=5)).isoformat(), "window_end": (today + timedelta(days=10)).isoformat(),
        "list_date": today.isoformat()}).json
    path = f"{CAMPAIGNS}/{campaign['id']}"
    wait_until(lambda: api.get(path).status_code == 200, message="the campaign")
    _, cpk_token = api.organisation_token(coordinator, cpk["id"])
    for token in (cpk_token, impostor_token):
        wait_until(lambda t=token: api.post(f"{path}/endorsements", token=t, json={}).status_code == 201,
                   message="events to know the organisation")
    attack = api.patch(f"{ORGS}/{impostor['id']}", token=impostor_token, json={**KENYA, "abbreviation": "СРК"})
    assert attack.status_code == 409
    # the less blatant try (a new name that looks like nothing) waits, and the list keeps the approved name
    assert api.patch(f"{ORGS}/{impostor['id']}", token=impostor_token,
                     json={"name_en": "Kenyan Communists"}).status_code == 200
    listing = api.get(f"{path}/signatories").json
    listed = [(s["abbreviation"], s["name_en"], s["country"]) for s in listing["initial"] + listing["subsequent"]]
    assert listed == [("CPK", "Communist Party of Kenya", "KE"), ("NDP", "New Democracy Party", "UG")]
    # accepted, the new name reaches the list (over the bus)
    [waiting] = api.get(RENAMES, token=coordinator).json["items"]
    assert api.post(f"{RENAMES}/{waiting['id']}/acceptance", token=coordinator).status_code == 200

    def renamed():
        listing = api.get(f"{path}/signatories").json
        return [s["name_en"] for s in listing["initial"] + listing["subsequent"]] == [
            "Communist Party of Kenya", "Kenyan Communists"]

    wait_until(renamed, message="the signatory list to learn the accepted name")


def the_impostor_only(api, coordinator) -> tuple[dict, str]:
    impostor = api.register(coordinator, abbreviation="NDP", name="New Democracy Party", name_en="New Democracy Party",
                            country="UG", timezone="Africa/Kampala")
    return impostor, api.organisation_token(coordinator, impostor["id"])[1]


def test_organisations_registered_before_the_skeletons_get_theirs(tmp_path):
    """0003 adds the skeletons: an organisation registered before must come out with its own,
    or a look-alike of it would pass."""
    db = Database(f"sqlite:///{tmp_path}/registry.db")
    upgrade(db, SPECS["registry"].migrations, revision="0002")
    now = "2022-11-01 12:00:00.000000+00:00"
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO organisations (id, abbreviation, abbreviation_key, name, name_en, country, "
                          "timezone, languages, status, created_at, updated_at) VALUES ('o1', 'CPK', 'cpk', "
                          "'Communist Party of Kenya', 'Communist Party of Kenya', 'KE', 'Africa/Nairobi', '[]', "
                          "'active', :now, :now)"), {"now": now})
    upgrade(db, SPECS["registry"].migrations)
    with db.engine.connect() as conn:
        row = conn.execute(text("SELECT abbreviation_skeleton, name_en_skeleton FROM organisations")).one()
    db.dispose()
    assert tuple(row) == (lookalike_key("СРК"), lookalike_key("Cоmmunist Party of Kenya"))


def test_an_imported_look_alike_is_a_bad_row(api, coordinator):
    api.register(coordinator, **KENYA)
    rows = ("number,abbreviation,name,name_en,country,timezone\n"
            "1,PCE,Partido Comunista de España,Communist Party of Spain,ES,Europe/Madrid\n"
            "2,СРК,Chama cha Kikomunisti,Kenyan Communists,KE,Africa/Nairobi\n")  # Cyrillic: looks like CPK
    csv = {"Content-Type": "text/csv"}
    before = registry_state(api)
    refused = api.post(f"{ORGS}/import", token=coordinator, data=rows.encode(), headers=csv)
    assert refused.status_code == 422 and registry_state(api) == before  # nothing imported
    assert [(e["line"], e["field"]) for e in refused.json["errors"]] == [(3, "abbreviation")]
    assert "looks like CPK" in refused.json["errors"][0]["message"]
    done = api.post(f"{ORGS}/import", token=coordinator, data=rows.encode(), headers=csv,
                    query_string={"skip_bad": "true"}).json
    assert done["created"] == 1 and [(e["line"], e["field"]) for e in done["skipped"]] == [(3, "abbreviation")]
    assert sorted(o["abbreviation"] for o in api.get(ORGS).json["items"]) == ["CPK", "PCE"]
