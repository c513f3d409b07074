"""The lane runner (ordered per meeting, bounded) and the token buckets."""

from __future__ import annotations

import threading
import time

import pytest

from meetings.live.ratelimit import TokenBucket, company_take
from meetings.live.runner import LaneRunner


def test_jobs_of_one_lane_run_in_order_and_lanes_run_side_by_side():
    runner = LaneRunner(workers=3, max_pending=100)
    seen: dict[str, list[int]] = {"a": [], "b": []}
    running = set()
    overlap = threading.Event()
    lock = threading.Lock()

    def job(lane: str, n: int) -> None:
        with lock:
            assert lane not in running, "two jobs of one lane at once"
            running.add(lane)
            if len(running) == 2:
                overlap.set()
        time.sleep(0.005)
        with lock:
            running.discard(lane)
            seen[lane].append(n)

    for n in range(30):
        runner.submit("a", job, "a", n)
        runner.submit("b", job, "b", n)
    assert runner.wait_idle(10)
    assert seen == {"a": list(range(30)), "b": list(range(30))}
    assert overlap.is_set()  # the two meetings did not wait for each other


def test_a_full_lane_refuses_jobs_and_a_failing_job_does_not_stop_it():
    runner = LaneRunner(workers=1, max_pending=3)
    gate, started = threading.Event(), threading.Event()
    done = []

    def blocker() -> None:
        started.set()
        gate.wait(5)

    def boom() -> None:
        raise RuntimeError("bug")

    assert runner.submit("m", blocker)
    assert started.wait(5)  # the blocker is running, the lane's queue is empty again
    accepted = [runner.submit("m", boom), runner.submit("m", done.append, 1), runner.submit("m", done.append, 2),
                runner.submit("m", done.append, 3)]
    assert accepted == [True, True, True, False] and runner.dropped == 1
    gate.set()
    assert runner.wait_idle(5) and done == [1, 2]


def test_token_bucket_refills_over_time():
    bucket = TokenBucket(rate=100.0, burst=2)
    assert bucket.take() == (True, 0.0) and bucket.take()[0]
    allowed, wait = bucket.take()
    assert not allowed and 0 < wait <= 0.011
    time.sleep(0.02)
    assert bucket.take()[0]


def test_company_bucket_is_shared_through_redis():
    from django.core.cache import cache

    company_id = int(time.time() * 1000) % 10_000_000 + 10_000_000  # a fresh key every run
    allowed = [company_take(company_id, rate=0.001, burst=3)[0] for _ in range(4)]
    assert allowed == [True, True, True, False]
    from meetings.live import ratelimit

    if ratelimit._redis_client() is not None:  # the state lives in Redis, not in this process

        assert not ratelimit._local_buckets
        client = ratelimit._redis_client()
        assert client.exists(cache.make_key(f"live:rate:company:{company_id}"))


def test_a_process_takes_a_few_tokens_ahead_and_never_more_than_the_bucket_holds(monkeypatch):
    from django.core.cache import cache

    from meetings.live import ratelimit

    if ratelimit._redis_client() is None:
        pytest.skip("the company bucket is in this process without Redis")
    trips = []
    real = ratelimit._redis_client
    monkeypatch.setattr(ratelimit, "_redis_client", lambda: trips.append(1) or real())
    monkeypatch.setattr(ratelimit, "RESERVE_SECONDS", 5.0)  # a slow machine must not drop what was kept
    company_id = int(time.time() * 1000) % 10_000_000 + 20_000_000
    # 0.8 tokens a second, 7 in the bucket: the first take keeps 4 more ahead, the next one the last 1.
    allowed = [company_take(company_id, rate=0.8, burst=7)[0] for _ in range(9)]
    assert allowed == [True] * 7 + [False] * 2  # never more than the bucket held
    assert len(trips) == 4  # 7 captions let through with 2 trips to Redis; each refusal asks again
    left = float(real().hget(cache.make_key(f"live:rate:company:{company_id}"), "tokens"))
    assert left < 1  # what this process kept ahead was taken from the shared bucket, not added to it
