"""Webhooks from the organisation area: added with their secret shown once, a refused URL
named beside its field, the delivery log with every attempt, a delivery sent again, and the
failing ones on the coordinators' dashboard. A real receiver on loopback."""
from __future__ import annotations

import re

from tests.conftest import wait_until
from tests.integration.test_finding_events import approved
from tests.integration.test_notify import api, receiver  # noqa: F401 - the platform with a receiver allowed
from tests.integration.test_web_account import form, office_browser, sign_in


def test_an_organisation_adds_a_webhook_reads_its_log_and_removes_it(api, coordinator, setting, receiver):  # noqa: F811
    token = setting["tokens"][0]
    org_key, _ = api.organisation_token(coordinator, setting["orgs"][0]["id"])
    sign_in(api, org_key)
    page = api.get("/me/webhooks")
    assert page.status_code == 200 and 'value="event.approved"' in page.data.decode()
    inside = form(api, "/me/webhooks", page, url="http://169.254.169.254/latest", types="event.approved")
    assert inside.status_code == 422 and 'id="w-url-error"' in inside.data.decode()
    none_picked = form(api, "/me/webhooks", page, url=receiver.url)
    assert none_picked.status_code == 422 and 'id="w-types-error"' in none_picked.data.decode()
    assert api.get("/api/notify/webhooks", token=token).json == {"items": [], "next": None}  # nothing was made

    added = form(api, "/me/webhooks", page, url=receiver.url, types="event.approved")
    endpoints = api.get("/api/notify/webhooks", token=token).json["items"]
    assert added.status_code == 200 and [e["url"] for e in endpoints] == [receiver.url]
    secret = re.search(r'id="secret" readonly value="([^"]+)"', added.data.decode()).group(1)
    assert secret.startswith("whsec_")
    listing = api.get("/me/webhooks").data.decode()
    assert receiver.url in listing and secret not in listing  # shown once only

    receiver.answers = [(503, {"Retry-After": "0"})]
    approved(api, coordinator, setting)
    path = f"/me/webhooks/{endpoints[0]['id']}"
    wait_until(lambda: "HTTP 200" in api.get(path).data.decode(), message="the retry to be logged")
    log = api.get(path)
    html = log.data.decode()
    assert "event.approved" in html and "HTTP 503" in html and "delivered" in html
    delivery = re.search(r"/redelivery/([0-9a-f-]{36})", html).group(1)
    assert form(api, f"{path}/redelivery/{delivery}", log).status_code == 303
    wait_until(lambda: len(receiver.requests) == 3, message="the delivery sent again")

    removed = form(api, f"{path}/removal", api.get(path))
    assert removed.status_code == 303 and api.get("/api/notify/webhooks", token=token).json["items"] == []


def test_failing_deliveries_show_on_the_dashboard(api, coordinator, setting, receiver):  # noqa: F811
    org_key, _ = api.organisation_token(coordinator, setting["orgs"][0]["id"])
    sign_in(api, org_key)
    page = api.get("/me/webhooks")
    receiver.answers = [(500, {})] * 10
    form(api, "/me/webhooks", page, url=receiver.url, types="event.approved")
    office = office_browser(api)
    assert "Every delivery arrives." in office.get("/me/deliveries").data.decode()
    approved(api, coordinator, setting)

    def deliveries_section() -> str:
        html = office.get("/me/deliveries").data.decode()
        return html[html.index('id="deliveries"'):html.index("</main>")]

    # Through every retry of the schedule until it is switched off: 30 s, as a full CI run once took over 10.
    wait_until(lambda: "switched off" in deliveries_section(), 30, message="the failing endpoint to show, switched off")
    shown = deliveries_section()
    assert setting["orgs"][0]["abbreviation"] in shown and "HTTP 500" in shown, shown
    assert receiver.url.rsplit("/", 1)[0] in shown and receiver.url not in shown  # its path may hold a secret
