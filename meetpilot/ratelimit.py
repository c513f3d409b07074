"""Rate limits on the HTTP API: token buckets in Redis, shared by every web process.

Each authenticated API request takes one unit from two buckets at once: its caller's (the API
token; a dashboard session counts per user and company) and its company's. Requests with a
``multipart/form-data`` body (the uploads: ``/meetings/upload``, ``/documents``,
``/meetings/import``) take from a separate pair of upload buckets instead, with their own budget.
A request is let through only when every one of its buckets has a unit left, and only then are the
units taken, in one Lua script, so a refused request costs nothing and two processes never both
spend the last unit. A refused request is a 429 with ``Retry-After`` (``meetpilot.apikit``) and
counts in ``meetpilot_api_rate_limited_total{scope}``.

The buckets refill continuously at ``rate`` units per second up to ``burst`` (settings in
``meetpilot/settings/operations.py``). Redis's own clock is used, so the web processes' clocks
do not matter. Without ``REDIS_URL`` (single process) the same buckets live in this process.
"""

from __future__ import annotations

import contextvars
import threading
import time
from dataclasses import dataclass

import redis
from django.conf import settings
from django.http import HttpRequest
from ninja.throttling import BaseThrottle

from meetpilot.metrics import API_RATE_LIMITED

# KEYS: the buckets. ARGV: cost, then rate and burst for each key. Returns {allowed, wait, index of the
# bucket that refused (1-based, 0 when allowed)}; wait is a string (Lua numbers become integers).
_TOKEN_BUCKETS = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local cost = tonumber(ARGV[1])
local levels = {}
local wait, refused = 0, 0
for i, key in ipairs(KEYS) do
  local rate, burst = tonumber(ARGV[2 * i]), tonumber(ARGV[2 * i + 1])
  local state = redis.call('HMGET', key, 'level', 'at')
  local level, at = tonumber(state[1]), tonumber(state[2])
  if level == nil then level, at = burst, now end
  level = math.min(burst, level + math.max(0, now - at) * rate)
  levels[i] = level
  if level < cost and (cost - level) / rate > wait then
    wait, refused = (cost - level) / rate, i
  end
end
if refused > 0 then return {0, tostring(wait), refused} end
for i, key in ipairs(KEYS) do
  local rate, burst = tonumber(ARGV[2 * i]), tonumber(ARGV[2 * i + 1])
  redis.call('HSET', key, 'level', tostring(levels[i] - cost), 'at', tostring(now))
  redis.call('PEXPIRE', key, math.ceil(burst / rate * 1000) + 1000)
end
return {1, '0', 0}
"""


@dataclass(frozen=True)
class Bucket:
    scope: str  # the metric label: token, company, upload_token, upload_company
    key: str
    rate: float  # units per second
    burst: float


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: float = 0.0
    scope: str = ""


class _LocalBuckets:
    """The same buckets in this process, for installs without Redis (one web process)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state: dict[str, tuple[float, float]] = {}

    def take(self, buckets: list[Bucket]) -> Decision:
        with self._lock:
            now = time.monotonic()
            levels, wait, refused = [], 0.0, ""
            for bucket in buckets:
                level, at = self._state.get(bucket.key, (bucket.burst, now))
                level = min(bucket.burst, level + max(0.0, now - at) * bucket.rate)
                levels.append(level)
                if level < 1 and (1 - level) / bucket.rate > wait:
                    wait, refused = (1 - level) / bucket.rate, bucket.scope
            if refused:
                return Decision(False, wait, refused)
            for bucket, level in zip(buckets, levels, strict=True):
                self._state[bucket.key] = (level - 1, now)
            return Decision(True)


_local = _LocalBuckets()
_clients: dict[str, redis.Redis] = {}
_clients_lock = threading.Lock()


def _redis(url: str) -> redis.Redis:
    with _clients_lock:
        if url not in _clients:
            _clients[url] = redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
        return _clients[url]


def buckets_for(*, company_id: int, caller: str, upload: bool) -> list[Bucket]:
    """The buckets one request takes from: its caller's and its company's (the upload pair for uploads)."""
    prefix = settings.API_RATE_LIMIT_KEY_PREFIX
    if upload:
        return [
            Bucket("upload_token", f"{prefix}:upload:{caller}", settings.API_UPLOAD_RATE_PER_TOKEN,
                   settings.API_UPLOAD_BURST_PER_TOKEN),
            Bucket("upload_company", f"{prefix}:upload:company:{company_id}", settings.API_UPLOAD_RATE_PER_COMPANY,
                   settings.API_UPLOAD_BURST_PER_COMPANY),
        ]
    return [
        Bucket("token", f"{prefix}:{caller}", settings.API_RATE_PER_TOKEN, settings.API_BURST_PER_TOKEN),
        Bucket("company", f"{prefix}:company:{company_id}", settings.API_RATE_PER_COMPANY,
               settings.API_BURST_PER_COMPANY),
    ]


def take(buckets: list[Bucket]) -> Decision:
    """Takes one unit from every bucket if each has one; otherwise nothing, and how long to wait."""
    if not settings.REDIS_URL:
        return _local.take(buckets)
    arguments: list[float] = [1]
    for bucket in buckets:
        arguments += [bucket.rate, bucket.burst]
    try:
        allowed, wait, refused = _redis(settings.REDIS_URL).eval(
            _TOKEN_BUCKETS, len(buckets), *[b.key for b in buckets], *arguments)
    except redis.RedisError:
        # Redis down: the API stays up (its own health check reports Redis); limits resume with it.
        return Decision(True)
    if allowed:
        return Decision(True)
    return Decision(False, float(wait), buckets[int(refused) - 1].scope)


_retry_after: contextvars.ContextVar[float | None] = contextvars.ContextVar("api_retry_after", default=None)


class ApiRateThrottle(BaseThrottle):
    """django-ninja's throttle hook (runs after authentication, before the body is read)."""

    def allow_request(self, request: HttpRequest) -> bool:
        principal = getattr(request, "auth", None)
        if not settings.API_RATE_LIMITS_ENABLED or principal is None or not hasattr(principal, "company"):
            return True
        if principal.token_id is not None:
            caller = f"token:{principal.token_id}"
        else:
            caller = f"user:{principal.user.pk}:company:{principal.company.pk}"
        upload = (request.content_type or "") == "multipart/form-data"
        decision = take(buckets_for(company_id=principal.company.pk, caller=caller, upload=upload))
        if decision.allowed:
            return True
        API_RATE_LIMITED.labels(scope=decision.scope).inc()
        _retry_after.set(decision.retry_after)
        return False

    def wait(self) -> float | None:
        # Read right after allow_request in the same request (thread or task): a context variable, since
        # one throttle object serves every request.
        return _retry_after.get()
