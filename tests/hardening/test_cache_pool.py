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

    def pool_and_roundtrip(i: int):
        cache.set(f"pool-test-{i}", i, timeout=30)
        assert cache.get(f"pool-test-{i}") == i
        return caches["default"], _redis_client().connection_pool

    # Each to_thread call starts from a copy of the context: Django builds a cache backend for each (kept alive
    # here, so that no two share an address), and they all share the process's one pool.
    seen = [await asyncio.to_thread(pool_and_roundtrip, i) for i in range(4)]
    assert len({id(backend) for backend, _ in seen}) == 4  # the premise
    assert all(pool is seen[0][1] for _, pool in seen)
