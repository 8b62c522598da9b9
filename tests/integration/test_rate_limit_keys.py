"""A client's address reaches the rate limiter's store only as part of a counter's key, and that
counter expires with its window: nothing in Redis keeps an address longer than a minute."""
from __future__ import annotations

import uuid

import redis

from tests.conftest import REDIS_URL, need
from tests.integration.conftest import ApiClient


def test_rate_limit_counters_in_redis_expire_with_their_window(make_platform):
    need("redis")
    api = ApiClient(make_platform(RATE_LIMIT_STORAGE_URL=REDIS_URL, TOKEN_RATE_LIMIT="5/minute"))
    address = f"198.18.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250 + 1}"
    answer = api.post("/api/registry/tokens", headers={"Authorization": "Bearer doa_nonsense"},
                      environ_base={"REMOTE_ADDR": address})
    assert answer.status_code == 401

    store = redis.Redis.from_url(REDIS_URL)
    keys = [key for key in store.scan_iter(match="LIMITS*", count=1000) if address.encode() in key]
    assert keys, "the counter was not kept in Redis"
    assert any(store.get(key) == b"1" for key in keys if store.type(key) == b"string")  # one request counted
    for key in keys:
        assert store.type(key) in (b"string", b"list")  # a counter (fixed window) or its hits (moving window)
        assert 0 < store.ttl(key) <= 60, f"{key!r} does not expire with its one-minute window"
