"""Generated requests (schemathesis, from each service's own OpenAPI document, both valid and
deliberately invalid ones): whatever a careless or hostile client sends, a service never
answers with a server error, and always in JSON."""
from __future__ import annotations

import itertools

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from tests.integration.conftest import ApiClient

GENERATED = 30  # requests per operation: enough to find crashes, small enough for CI


@pytest.mark.parametrize("service", ["registry", "events"])
def test_no_generated_request_makes_a_service_fail(make_platform, service):
    platform = make_platform()
    api = ApiClient(platform)
    token = api.coordinator_token()
    org = api.register(token)
    api.organisation_token(token, org["id"])
    api.post("/api/events/campaigns", token=token, json={
        "name": "C", "day_of_action": "2030-05-01", "window_start": "2030-04-01", "window_end": "2030-05-31",
        "status": "open"})
    schema = schemathesis.openapi.from_wsgi(f"/api/{service}/openapi.json", platform.wsgi)
    failures, tried = [], 0
    for result, mode in itertools.product(schema.get_all_operations(), GenerationMode):
        operation = result.ok()

        @given(case=operation.as_strategy(mode))
        @settings(max_examples=GENERATED, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def run(case):
            nonlocal tried
            tried += 1
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
            response = case.call()
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} {case.body!r:.200} -> {response.status_code}")
            elif response.status_code != 204:
                kind = (response.headers.get("content-type") or [""])[0]
                if not kind.startswith(("application/json", "application/problem+json", "application/geo+json",
                                        "text/calendar", "application/jsonl", "text/csv")):  # the last two: exports
                    failures.append(f"{case.method} {case.formatted_path} -> {response.status_code} {kind!r}")

        try:
            run()
        except Unsatisfiable:  # nothing invalid can be said to this operation (no inputs)
            assert mode is GenerationMode.NEGATIVE
    assert tried > 100 and failures == []
