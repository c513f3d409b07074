"""A bounded thread pool that runs jobs in order per lane (one lane per meeting and kind of work).

The socket never waits for analysis: the consumer acks after commit and the analysis is owed in
the database (``meetings.live.backlog``); the pipeline submits a drain of the meeting's backlog
here, coalesced (at most one drain waits per lane), so nothing is lost when a lane is busy. Jobs
of one lane run one after another, in submission order; different lanes share the pool's
threads. A lane that has ``max_pending`` jobs waiting refuses more (logged): only asks, which
are not durable, can fill one.

A job is a function decorated with ``company_job``: it takes ``company_id`` and runs inside that
company's tenant scope. This is the one place live work off the socket enters a scope, whether
the pool runs the job, the inline mode runs it after commit, or a script calls it directly.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from django.db import connections

from accounts.tenancy import tenant_scope

logger = logging.getLogger("meetpilot.live")
F = TypeVar("F", bound=Callable[..., Any])


def connections_tidy() -> None:
    """Close this thread's connections that errored, outlived CONN_MAX_AGE or were left mid-transaction.

    Every live thread (socket work, analysis pools, the sweep, a live worker's rounds) tidies through here.
    ``close_if_unusable_or_obsolete`` would also mark each kept connection for a health check (with
    CONN_HEALTH_CHECKS), one more round trip (``SELECT 1``) before the next job's first query; a kept
    connection is only checked after an error."""
    for conn in connections.all(initialized_only=True):
        if conn.connection is None:
            continue
        obsolete = conn.close_at is not None and time.monotonic() >= conn.close_at
        if obsolete or conn.errors_occurred or conn.get_autocommit() != conn.settings_dict["AUTOCOMMIT"]:
            conn.close_if_unusable_or_obsolete()


def company_job(fn: F) -> F:
    """Run ``fn(company_id=..., ...)`` in the tenant scope of its ``company_id``."""

    @functools.wraps(fn)
    def run(*args: Any, company_id: int, **kwargs: Any) -> Any:
        with tenant_scope(company_id):
            return fn(*args, company_id=company_id, **kwargs)

    return run  # type: ignore[return-value]


class LaneRunner:
    def __init__(self, *, workers: int, max_pending: int, name: str = "live-analysis") -> None:
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=name)
        self._max_pending = max_pending
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._lanes: dict[Hashable, deque[tuple[Callable[..., Any], tuple, dict]]] = {}
        self._active: set[Hashable] = set()
        self.dropped = 0

    def submit(self, lane: Hashable, fn: Callable[..., Any], *args: Any, coalesce: bool = False,
               **kwargs: Any) -> bool:
        """Queue ``fn`` on ``lane``. ``coalesce``: the jobs of this lane are interchangeable (each does
        whatever is owed when it starts), so one already waiting to start serves this submit too."""
        with self._lock:
            queue = self._lanes.setdefault(lane, deque())
            if coalesce and queue:
                return True
            if len(queue) >= self._max_pending:
                self.dropped += 1
                logger.warning("live analysis lane %s is full (%d waiting); job dropped", lane, len(queue))
                return False
            queue.append((fn, args, kwargs))
            if lane in self._active:
                return True
            self._active.add(lane)
        self._executor.submit(self._drain, lane)
        return True

    def _drain(self, lane: Hashable) -> None:
        try:
            while True:
                with self._lock:
                    queue = self._lanes.get(lane)
                    if not queue:
                        self._lanes.pop(lane, None)
                        self._active.discard(lane)
                        self._idle.notify_all()
                        return
                    fn, args, kwargs = queue.popleft()
                try:
                    fn(*args, **kwargs)
                except Exception:
                    logger.exception("live analysis job failed (lane %s)", lane)
        finally:
            # Keep or close this thread's connection as CONN_MAX_AGE says (closed at once by default).
            connections_tidy()

    def pending(self) -> int:
        with self._lock:
            return sum(len(q) for q in self._lanes.values()) + len(self._active)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until every lane is empty (tests and scripts)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._active:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._idle.wait(remaining)
        return True
