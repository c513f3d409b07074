"""Token buckets: one per connection (in memory) and one per company shared by every process.

The company bucket lives in Redis (an atomic Lua script on the cache's Redis, using Redis's
own clock so processes on different machines agree). Without Redis (single-process
development) it falls back to a bucket in this process.

A process that takes from the company's bucket takes up to RESERVE_TOKENS more while there are
plenty, and spends them on its next captions for up to RESERVE_SECONDS: one Redis round trip per
few captions instead of one per caption. It never lets more through than the bucket holds (what
it keeps was taken from it); what it does not spend in time is dropped, so a company may get a
little less than its rate, never more. Buckets refilled slower than RESERVE_TOKENS per
RESERVE_SECONDS (small rates, tests) are taken from one token at a time, as before.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache

logger = logging.getLogger("meetpilot.live")


@dataclass
class TokenBucket:
    rate: float  # tokens added per second
    burst: float  # bucket size
    tokens: float = field(default=-1.0)
    updated: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        if self.tokens < 0:
            self.tokens = self.burst

    def take(self, cost: float = 1.0) -> tuple[bool, float]:
        """(allowed, seconds to wait before ``cost`` tokens are there)."""
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= cost:
            self.tokens -= cost
            return True, 0.0
        return False, round((cost - self.tokens) / self.rate, 3) if self.rate > 0 else 60.0


_TOKEN_BUCKET_LUA = """
local key = KEYS[1]
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local extra = tonumber(ARGV[4] or "0")
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', key, 'tokens', 'updated')
local tokens = tonumber(state[1])
local updated = tonumber(state[2])
if tokens == nil then tokens = burst; updated = now end
tokens = math.min(burst, tokens + math.max(0, now - updated) * rate)
local allowed = 0
local wait = 0
local granted = 0
if tokens >= cost then
  granted = math.max(0, math.min(extra, math.floor(tokens - cost)))
  tokens = tokens - cost - granted
  allowed = 1
else
  wait = (cost - tokens) / rate
end
redis.call('HSET', key, 'tokens', tostring(tokens), 'updated', tostring(now))
redis.call('EXPIRE', key, math.ceil(burst / rate) + 10)
return {allowed, tostring(wait), granted}
"""

RESERVE_TOKENS = 4  # taken ahead from the company's bucket ...
RESERVE_SECONDS = 0.5  # ... and spent within this long, or dropped

_local_buckets: dict[str, TokenBucket] = {}
_local_lock = threading.Lock()
_reserves: dict[str, tuple[float, float]] = {}  # key -> (tokens this process took ahead, spend before)
_script = None


def _reserve_spend(key: str, cost: float) -> bool:
    with _local_lock:
        tokens, until = _reserves.get(key, (0.0, 0.0))
        if tokens >= cost and time.monotonic() < until:
            _reserves[key] = (tokens - cost, until)
            return True
        return False


def _reserve_keep(key: str, tokens: float) -> None:
    with _local_lock:
        if tokens > 0:
            _reserves[key] = (tokens, time.monotonic() + RESERVE_SECONDS)
        else:
            _reserves.pop(key, None)


def _redis_client():
    backend = caches["default"]  # the backend itself: ``cache`` is a proxy
    if not isinstance(backend, RedisCache):
        return None
    return backend._cache.get_client(write=True)  # the process's one pool (meetpilot.cache)


def company_take(company_id: int, *, cost: float = 1.0, rate: float | None = None,
                 burst: float | None = None) -> tuple[bool, float]:
    """Take ``cost`` tokens from the company's shared bucket (synchronous: call from a thread)."""
    global _script
    rate = settings.LIVE_COMPANY_RATE if rate is None else rate
    burst = settings.LIVE_COMPANY_BURST if burst is None else burst
    key = cache.make_key(f"live:rate:company:{company_id}")
    if _reserve_spend(key, cost):  # taken from Redis ahead, moments ago
        return True, 0.0
    client = _redis_client()
    if client is not None:
        try:
            if _script is None:
                _script = client.register_script(_TOKEN_BUCKET_LUA)
            extra = min(RESERVE_TOKENS, int(rate * RESERVE_SECONDS))
            allowed, wait, granted = _script(keys=[key], args=[rate, burst, cost, extra], client=client)
            _reserve_keep(key, float(granted))
            return bool(int(allowed)), round(float(wait), 3)
        except Exception:  # Redis trouble must not stop meetings: fall back to this process's bucket
            logger.exception("company rate limit via Redis failed; using the local bucket")
    with _local_lock:
        bucket = _local_buckets.get(key)
        if bucket is None or bucket.rate != rate or bucket.burst != burst:
            bucket = _local_buckets[key] = TokenBucket(rate=rate, burst=burst)
        return bucket.take(cost)
