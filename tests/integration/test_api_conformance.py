"""The OpenAPI document is the truth (docs/api.md, "The contract"): schemathesis generates
requests from each service's own document, valid and deliberately invalid ones, and every
answer must be what the document says: a documented status, a documented content type, a
body that matches the documented schema, the documented headers. Valid input is never
refused as malformed: a 400 or 422 for a schema-valid request must name a rule the schema
cannot express (its problem `type` is not `validation`, `bad-request` or `unknown-parameter`).
Every 201's `Location` is followed: it must answer GET with the same credentials.

A failing run lists every operation that strayed, with the status and the problem's detail,
so the list is the to-do. `CONFORMANCE_EXAMPLES` sets requests per operation and mode.
"""
from __future__ import annotations

import base64
import os
from collections import Counter
from datetime import datetime

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from werkzeug.test import Client

from shared.fields import unsafe_character
from tests.integration.conftest import ApiClient

EXAMPLES = int(os.environ.get("CONFORMANCE_EXAMPLES", "12"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]
# What a schema-valid request may never be refused as: these types say "your input is malformed".
MALFORMED = {"validation", "bad-request", "unknown-parameter", "malformed-json"}


def _printable(multiline: bool):
    allowed = {"\n", "\t"} if multiline else set()
    return st.text(min_size=1).filter(lambda s: s.strip() and unsafe_character(s, allowed) is None)


# The string formats docs/api.md defines: printable text, on one line or several.
schemathesis.openapi.format("text", _printable(False))
schemathesis.openapi.format("multiline-text", _printable(True))
# tus's Upload-Metadata: `key base64(UTF-8 value)` pairs (keys no option uses: their values are
# the options' own rules, checked elsewhere), as the resumable upload's document says.
schemathesis.openapi.format("tus-metadata", st.lists(st.tuples(
    st.from_regex(r"x_[a-z]{1,8}", fullmatch=True),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20)), max_size=3).map(
    lambda pairs: ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in pairs)))
# A wall-clock time with no offset (an event's local start and end).
schemathesis.openapi.format("local-date-time", st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(
    2200, 1, 1)).map(lambda moment: moment.replace(microsecond=0).isoformat()))


def _problem(response) -> tuple[str, str]:
    try:
        body = response.json()
    except Exception:  # not JSON: the content-type check reports it
        try:
            return "", response.text[:120] if hasattr(response, "text") else ""
        except UnicodeDecodeError:  # a file (an .xlsx export)
            return "", ""
    if not isinstance(body, dict):
        return "", ""
    return str(body.get("type", "")).rsplit(":", 1)[-1], str(body.get("detail", ""))[:160]


def _seeded(make_platform):
    platform = make_platform()
    api = ApiClient(platform)
    token = api.coordinator_token()
    org = api.register(token)
    api.organisation_token(token, org["id"])
    api.post("/api/events/campaigns", token=token, json={
        "name": "C", "day_of_action": "2030-05-01", "window_start": "2030-04-01",
        "window_end": "2030-05-31", "status": "open"})
    return platform, token


@pytest.mark.parametrize("service", ["registry", "events", "media", "notify"])
def test_every_answer_is_what_the_openapi_document_says(make_platform, service):
    platform, token = _seeded(make_platform)
    schema = schemathesis.openapi.from_wsgi(f"/api/{service}/openapi.json", platform.wsgi)
    failures: Counter = Counter()
    tried = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            run = _runner(operation, mode, token, failures)
            try:
                run()
            except Unsatisfiable:  # nothing invalid can be said to this operation (no inputs)
                assert mode is GenerationMode.NEGATIVE
            tried += 1
    report = "\n".join(f"{n:3}x {where}: {title} [{status}] {detail}"
                       for (where, title, status, detail), n in sorted(failures.items()))
    assert tried > 20
    assert not failures, f"{len(failures)} ways {service} strays from its document:\n{report}"


def _runner(operation, mode, token, failures: Counter):
    """One operation in one mode: each stray answer counted under (where, what, status, detail)."""

    @given(case=operation.as_strategy(mode))
    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def run(case):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
        response = case.call()
        kind, detail = _problem(response)
        where = f"{case.method} {operation.path}"
        if mode is GenerationMode.POSITIVE and response.status_code in (400, 422) and kind in MALFORMED:
            failures[(where, "valid input refused", response.status_code, detail)] += 1
        if response.status_code == 201:
            _follow_location(case, response, where, failures)
        try:
            case.validate_response(response, checks=CHECKS)
        except BaseException as exc:  # schemathesis groups what it found  # noqa: BLE001
            for found in getattr(exc, "exceptions", [exc]):
                title = getattr(found, "title", type(found).__name__)
                failures[(where, title, response.status_code, detail or str(found)[:160])] += 1

    return run


def _follow_location(case, response, where: str, failures: Counter) -> None:
    """A 201's Location answers GET with the same credentials (the contract's point 6)."""
    found = {name.lower(): value for name, value in response.headers.items()}.get("location")
    location = found[0] if isinstance(found, list) else found
    if not location:
        failures[(where, "201 without Location", 201, "")] += 1
        return
    answer = Client(case.operation.schema.app).get(location, headers={"Authorization": case.headers["Authorization"]})
    if answer.status_code != 200:
        failures[(where, "201's Location does not answer GET", answer.status_code, location)] += 1

