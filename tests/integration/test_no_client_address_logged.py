"""No client's IP address is written anywhere: a request refused by the rate limiter is logged
(flask-limiter's "ratelimit … exceeded" line, our request line) without the address it was
counted by."""
from __future__ import annotations

import io
import random

import pytest

from tests.captured_logs import logs_into
from tests.integration.conftest import ApiClient

SUBSCRIPTIONS = "/api/notify/subscriptions"


@pytest.fixture
def log_lines():
    with logs_into(io.StringIO()) as stream:
        yield stream


# One limiter counts for every app of the test process: addresses no other test uses.
@pytest.mark.parametrize("client", [f"198.51.100.{random.randrange(1, 255)}",
                                    f"2001:db8:{random.randrange(1, 0xffff):x}::7"])
def test_a_rate_limited_request_is_logged_without_the_clients_address(make_platform, log_lines, client):
    api = ApiClient(make_platform(SUBSCRIBE_RATE_LIMIT="2/minute"))
    body = {"email": "limited@example.org", "language": "en", "scope": "country", "country": "KE"}
    answers = [api.post(SUBSCRIPTIONS, json=body, environ_base={"REMOTE_ADDR": client}).status_code
               for _ in range(3)]
    assert answers == [202, 202, 429]
    out = log_lines.getvalue()
    assert "ratelimit 2 per 1 minute (<ip>) exceeded" in out, out
    assert "POST /api/notify/subscriptions 429" in out
    assert client not in out
    assert "limited@example.org" not in out
