"""Which clients are connected to a meeting right now, across processes.

Each connection is a member of a Redis sorted set scored by when it expires; the consumer
refreshes it while the connection lives and removes it on disconnect, so a crashed process's
connections age out by themselves. Without Redis the registry is per process.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from django.core.cache import cache

from meetings.live.ratelimit import _redis_client

TTL_SECONDS = 120.0

_local: dict[int, dict[str, tuple[float, dict[str, Any]]]] = {}
_local_lock = threading.Lock()


def _keys(meeting_id: int) -> tuple[str, str]:
    base = cache.make_key(f"live:presence:{meeting_id}")
    return base, base + ":info"


def presence_add(*, meeting_id: int, channel: str, info: dict[str, Any]) -> None:
    expires = time.time() + TTL_SECONDS
    client = _redis_client()
    if client is None:
        with _local_lock:
            _local.setdefault(meeting_id, {})[channel] = (expires, info)
        return
    zset, details = _keys(meeting_id)
    pipe = client.pipeline()
    pipe.zadd(zset, {channel: expires})
    pipe.hset(details, channel, json.dumps(info, default=str))
    pipe.expire(zset, int(TTL_SECONDS * 2))
    pipe.expire(details, int(TTL_SECONDS * 2))
    pipe.execute()


def presence_touch(*, meeting_id: int, channel: str, info: dict[str, Any]) -> None:
    presence_add(meeting_id=meeting_id, channel=channel, info=info)


def presence_remove(*, meeting_id: int, channel: str) -> None:
    client = _redis_client()
    if client is None:
        with _local_lock:
            _local.get(meeting_id, {}).pop(channel, None)
        return
    zset, details = _keys(meeting_id)
    pipe = client.pipeline()
    pipe.zrem(zset, channel)
    pipe.hdel(details, channel)
    pipe.execute()


def presence_list(*, meeting_id: int) -> list[dict[str, Any]]:
    now = time.time()
    client = _redis_client()
    if client is None:
        with _local_lock:
            entries = _local.get(meeting_id, {})
            return [info for expires, info in entries.values() if expires > now]
    zset, details = _keys(meeting_id)
    client.zremrangebyscore(zset, "-inf", now)
    channels = client.zrangebyscore(zset, now, "+inf")
    if not channels:
        return []
    infos = client.hmget(details, channels)
    return [json.loads(raw) for raw in infos if raw]
