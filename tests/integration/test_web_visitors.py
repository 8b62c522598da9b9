"""The web front asks the services on behalf of its visitors: their rate limits count per
visitor, not one count for everyone who uses the site."""
from __future__ import annotations

import pytest

from tests.integration.conftest import ApiClient


@pytest.fixture(params=["sqlite"])
def api(request, make_platform):
    return ApiClient(make_platform(db=request.param, SUBSCRIBE_RATE_LIMIT="2/minute"))


def test_each_visitor_has_a_rate_limit_of_their_own(api, notify_campaign):
    campaign = notify_campaign

    def subscribe(address: str, n: int):
        return api.post(f"/campaigns/{campaign}/subscription", data={"email": f"reader{n}@example.org"},
                        headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "text/html"},
                        environ_base={"REMOTE_ADDR": address})

    assert [subscribe("203.0.113.7", n).status_code for n in range(3)] == [303, 303, 429]
    assert subscribe("198.51.100.9", 3).status_code == 303  # another visitor is not held back
