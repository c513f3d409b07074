"""The Redis cache keeps one connection pool per process, whatever thread or async context asks."""

from __future__ import annotations

import asyncio

import pytest
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache

from meetings.live.ratelimit import _redis_client


@pytest.mark.asyncio
async def test_calls_from_fresh_async_contexts_share_one_redis_pool():
    if not isinstance(caches["default"], RedisCache):
        pytest.skip("the cache is not Redis (no REDIS_URL)")

    def pool_and_roundtrip(i: int) -> int:
        cache.set(f"pool-test-{i}", i, timeout=30)
        assert cache.get(f"pool-test-{i}") == i
        return id(_redis_client().connection_pool)

    # Each to_thread call starts from a copy of the context: Django builds a cache backend for each.
    pools = {await asyncio.to_thread(pool_and_roundtrip, i) for i in range(4)}
    assert len(pools) == 1
    assert len({id(await asyncio.to_thread(lambda: caches["default"])) for _ in range(2)}) == 2  # the premise
