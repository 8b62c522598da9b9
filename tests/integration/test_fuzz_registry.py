"""Generated requests (schemathesis, from the registry's own OpenAPI document, both valid and
deliberately invalid ones): whatever a careless or hostile client sends, the registry never
answers with a server error, and always in JSON."""
from __future__ import annotations

import itertools

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from tests.integration.conftest import ApiClient

GENERATED = 30  # requests per operation: enough to find crashes, small enough for CI


def test_no_generated_request_makes_the_registry_fail(make_platform):
    platform = make_platform()
    api = ApiClient(platform)
    token = api.coordinator_token()
    org = api.register(token)
    api.organisation_token(token, org["id"])
    schema = schemathesis.openapi.from_wsgi("/api/registry/openapi.json", platform.wsgi)
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
                if not kind.startswith(("application/json", "application/problem+json")):
                    failures.append(f"{case.method} {case.formatted_path} -> {response.status_code} {kind!r}")

        try:
            run()
        except Unsatisfiable:  # nothing invalid can be said to this operation (no inputs)
            assert mode is GenerationMode.NEGATIVE
    assert tried > 200 and failures == []
