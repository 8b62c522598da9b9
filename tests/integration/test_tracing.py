"""One approval followed across the services by its W3C trace id: from the request's
`traceparent`, through the message events adds to its outbox, into notify's log lines."""
from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import select

from tests.captured_logs import logs_into
from tests.conftest import wait_until
from tests.integration.conftest import ApiClient
from tests.integration.test_local_events_api import EVENTS, submit

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


@pytest.fixture
def api(make_platform) -> ApiClient:
    return ApiClient(make_platform())


def _lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]


def _outbox_headers(api: ApiClient, service: str, type_: str) -> list[dict]:
    kernel = api.platform.kernels[service]
    table = kernel.tables["outbox"]
    with kernel.db.transaction() as session:
        rows = session.execute(select(table.c.headers, table.c.body).where(table.c.routing_key == type_)).all()
    return [(headers, json.loads(body)) for headers, body in rows]


def test_an_approval_is_followed_from_the_request_through_the_bus_into_notifys_logs(api, coordinator, setting):
    created = submit(api, setting).json
    with logs_into(io.StringIO()) as stream:
        response = api.post(f"{EVENTS}/{created['id']}/approval", token=coordinator,
                            headers={"traceparent": TRACEPARENT})
        assert response.status_code == 200
        ((headers, envelope),) = _outbox_headers(api, "events", "event.approved")
        # The message carries the trace on, as the next span (a parent id of its own).
        assert headers["traceparent"].split("-")[1] == TRACE_ID
        assert headers["traceparent"] != TRACEPARENT

        def notify_handled():
            return [line for line in _lines(stream) if line.get("logger") == "doa.bus.consumer"
                    and line.get("service") == "notify" and envelope["id"] in line["message"]]

        wait_until(notify_handled, message="notify to handle event.approved")
    (handled,) = notify_handled()
    assert handled["trace_id"] == TRACE_ID
    assert handled["message"] == f"handled event.approved {envelope['id']}"
    # The request's own line names the trace too.
    (request_line,) = [line for line in _lines(stream) if line.get("logger") == "doa.http"
                       and line["message"].startswith("POST /api/events/events/")]
    assert request_line["trace_id"] == TRACE_ID


def test_a_request_without_a_valid_traceparent_starts_a_trace_of_its_own(api, coordinator, setting):
    first = submit(api, setting).json
    second = submit(api, setting).json
    api.post(f"{EVENTS}/{first['id']}/approval", token=coordinator)
    api.post(f"{EVENTS}/{second['id']}/approval", token=coordinator,
             headers={"traceparent": f"00-{'0' * 32}-00f067aa0ba902b7-01"})  # an all-zero trace id is invalid
    traces = [headers["traceparent"].split("-")[1] for headers, _ in _outbox_headers(api, "events", "event.approved")]
    assert len(traces) == 2 and len(set(traces)) == 2
    assert all(len(t) == 32 and t != "0" * 32 for t in traces)
