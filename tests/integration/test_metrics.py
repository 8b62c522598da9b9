"""Each service's /api/<service>/metrics, as Prometheus reads it."""
from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from tests.integration.conftest import ApiClient


def scrape(api: ApiClient, service: str) -> dict[str, list]:
    """The metrics a scrape of `service` answers: name → its samples."""
    response = api.get(f"/api/{service}/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    found: dict[str, list] = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            found.setdefault(sample.name, []).append(sample)
    return found


def value(samples: dict, name: str, **labels) -> float:
    matching = [s.value for s in samples.get(name, []) if all(s.labels.get(k) == v for k, v in labels.items())]
    assert len(matching) == 1, (name, labels, samples.get(name))
    return matching[0]


def test_requests_are_counted_by_route_template_and_the_outbox_gauge_moves(make_platform):
    api = ApiClient(make_platform())  # no workers: what is written stays in the outbox
    before = scrape(api, "registry")
    assert value(before, "doa_outbox_due", service="registry") == 0
    assert value(before, "doa_outbox_oldest_due_seconds", service="registry") == 0

    coordinator = api.coordinator_token()
    organisation = api.register(coordinator)
    for _ in range(3):
        assert api.get(f"/api/registry/organisations/{organisation['id']}", token=coordinator).status_code == 200
    assert api.get("/api/registry/organisations/00000000-0000-4000-8000-000000000000",
                   token=coordinator).status_code == 404
    assert api.get("/api/registry/no-such-thing/1234567").status_code == 404

    after = scrape(api, "registry")
    one = "/api/registry/organisations/<uuid:organisation_id>"
    assert value(after, "doa_http_request_seconds_count", service="registry", route=one, method="GET",
                 status="2xx") == 3
    assert value(after, "doa_http_request_seconds_count", service="registry", route=one, method="GET",
                 status="4xx") == 1
    assert value(after, "doa_http_request_seconds_count", service="registry", route="/api/registry/organisations",
                 method="POST", status="2xx") == 1
    assert value(after, "doa_http_request_seconds_count", service="registry", route="unmatched",
                 method="GET", status="4xx") == 1
    labels = {v for samples in after.values() for s in samples for v in s.labels.values()}
    assert not [v for v in labels if organisation["id"] in v or "1234567" in v or "00000000" in v]

    # The organisation's registration waits in the outbox (no relay runs here).
    assert value(after, "doa_outbox_due", service="registry") >= 1
    assert value(after, "doa_outbox_oldest_due_seconds", service="registry") >= 0
    assert value(after, "doa_tables_readable", service="registry") == 1
    # Each app has its own registry: events saw none of registry's requests.
    assert not [s for s in scrape(api, "events").get("doa_http_request_seconds_count", [])
                if s.labels["service"] != "events"]


def test_notify_counts_its_emails_by_status(make_platform):
    from services.notify.models import Notice, Notification
    from shared.db import utcnow

    api = ApiClient(make_platform())
    assert not scrape(api, "notify").get("doa_notify_notifications")  # none yet: no series
    with api.platform.kernels["notify"].db.transaction() as session:
        session.add(Notice(id="m-1", kind="event.approved", context={}))
        session.flush()
        for n, status in enumerate(("pending", "pending", "failed", "sent")):
            session.add(Notification(notice_id="m-1", recipient=f"subscription:{n}", status=status,
                                     next_at=utcnow()))
    samples = scrape(api, "notify")
    assert value(samples, "doa_notify_notifications", service="notify", status="pending") == 2
    assert value(samples, "doa_notify_notifications", service="notify", status="failed") == 1
    assert value(samples, "doa_notify_notifications", service="notify", status="sent") == 1
    assert "doa_notify_notifications" not in scrape(api, "events")  # notify's alone


def test_metrics_are_not_part_of_the_api_document(make_platform):
    api = ApiClient(make_platform())
    for service in ("registry", "notify"):
        paths = api.get(f"/api/{service}/openapi.json").json["paths"]
        assert not [p for p in paths if p.endswith("/metrics")]


def test_the_gateway_does_not_serve_metrics_to_the_public():
    """deploy/nginx.conf: a regex location (it wins over the /api/<service>/ prefixes) answers
    404 for every service's metrics path, and for no API path besides."""
    import re
    from pathlib import Path

    from shared.config import SERVICES
    from tests.unit.test_compose_file import parse_nginx

    conf = (Path(__file__).parents[2] / "deploy" / "nginx.conf").read_text()
    (server,) = [children for name, _, children in parse_nginx(conf) if name == "server"]
    blocked = [re.compile(args[1]) for name, args, children in server
               if name == "location" and args[0] == "~" and ("return", ["404"], None) in children]
    for service in SERVICES:
        assert any(r.match(f"/api/{service}/metrics") for r in blocked), service
    assert not any(r.match("/api/events/events") or r.match("/api/notify/subscriptions") for r in blocked)
