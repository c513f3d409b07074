"""The cache backend: Django's Redis cache, with one client (and so one connection pool) per process.

Django keeps a cache backend per thread and per async context: under ASGI every ``sync_to_async`` or
``asyncio.to_thread`` call starts from a fresh context, so each call built a backend of its own, a connection
pool of its own, and a new TCP connection to Redis (live audio claims, presence, the rate limiter and the answer
cache, many times a second). The client here is shared by every backend of the process with the same servers
and options; redis-py's pool is thread-safe and starts afresh in a forked child.
"""

from __future__ import annotations

import threading
from functools import cached_property
from typing import Any

from django.core.cache.backends import redis

_clients: dict[tuple, Any] = {}
_lock = threading.Lock()


class RedisCache(redis.RedisCache):
    @cached_property
    def _cache(self) -> redis.RedisCacheClient:
        key = (self._class, tuple(self._servers), repr(sorted(self._options.items())))
        with _lock:
            client = _clients.get(key)
            if client is None:
                client = _clients[key] = self._class(self._servers, **self._options)
        return client
