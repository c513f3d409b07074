"""How busy this process is, and what it sheds while it is.

One ``Load`` per process. It is fed by the consumers (how long each caption took from frame to
ack) and by a monitor on the server's event loop (how late a short sleep wakes up: when the loop
is late, every socket is). The process is ``busy`` when either passes its limit
(``LIVE_BUSY_ACK_MS``, ``LIVE_BUSY_LOOP_LAG_MS``) and ``ok`` again once both have stayed under half
of it for ``LIVE_BUSY_HOLD_SECONDS`` (no flapping).

While busy:
- connections are told so with a ``status`` frame (``kind: "load"``, ``state: "busy"``,
  ``retry_after_ms``, ``send_interims: false``), and told again when it is ``ok``;
- interim captions are coalesced per connection and speaker (``InterimCoalescer``): only the newest
  is stored and broadcast, the ones it replaced are acked ``coalesced``;
- live analysis pauses or runs on fewer threads (``analysis_slot``): its durable backlog waits, in
  order, and catches up when the load drops. Acks never wait on analysis. (In one process, analysis
  threads slow every socket down through the interpreter lock: each database round trip of an ack
  waits for the lock again. ``LIVE_ANALYSIS_MODE=worker`` moves analysis out of the web process.)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

from django.conf import settings

from meetings.live.payloads import load_status_frame
from meetpilot.metrics import LIVE_SHED

logger = logging.getLogger("meetpilot.live")
EWMA_WEIGHT = 0.2


class Load:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.ack_ms = 0.0  # exponentially weighted caption ack time
        self.loop_lag_ms = 0.0
        self.state = "ok"
        self._calm_since: float | None = None
        self.changed_at = time.monotonic() - 1e6  # never busy yet: no slow start
        self._slots = threading.Condition(self._lock)
        self._running = 0
        self._last_ack = 0.0

    # --- signals ---------------------------------------------------------------------------

    def ack_observed(self, seconds: float) -> None:
        with self._lock:
            self.ack_ms += EWMA_WEIGHT * (seconds * 1000 - self.ack_ms)
            self._last_ack = time.monotonic()
            self._update()

    def loop_lag_observed(self, seconds: float) -> None:
        with self._lock:
            self.loop_lag_ms += EWMA_WEIGHT * (seconds * 1000 - self.loop_lag_ms)
            self._update()

    def _update(self) -> None:
        ack_limit, lag_limit = settings.LIVE_BUSY_ACK_MS, settings.LIVE_BUSY_LOOP_LAG_MS
        now = time.monotonic()
        if now - self._last_ack > settings.LIVE_BUSY_HOLD_SECONDS:  # no captions lately: nothing is waiting
            self.ack_ms = 0.0
        if self.ack_ms > ack_limit or self.loop_lag_ms > lag_limit:
            self._calm_since = None
            if self.state != "busy":
                self.state, self.changed_at = "busy", now
                LIVE_SHED.labels(what="busy").inc()
                logger.warning("live load busy: caption ack %.0f ms, event loop lag %.0f ms", self.ack_ms,
                               self.loop_lag_ms)
            return
        if self.state == "busy" and self.ack_ms < ack_limit / 2 and self.loop_lag_ms < lag_limit / 2:
            if self._calm_since is None:
                self._calm_since = now
            elif now - self._calm_since >= settings.LIVE_BUSY_HOLD_SECONDS:
                self.state, self.changed_at, self._calm_since = "ok", now, None
                self._slots.notify_all()
                logger.warning("live load ok again: caption ack %.0f ms, event loop lag %.0f ms", self.ack_ms,
                               self.loop_lag_ms)

    @property
    def busy(self) -> bool:
        return self.state == "busy"

    def retry_after_ms(self) -> int:
        """How long a client should wait before sending interims again (at least a second)."""
        return int(max(1000.0, 4 * self.ack_ms, 4 * self.loop_lag_ms))

    # --- analysis concurrency ----------------------------------------------------------------

    @contextlib.contextmanager
    def analysis_slot(self) -> Iterator[None]:
        """Run one segment's analysis. While busy only ``LIVE_BUSY_ANALYSIS_WORKERS`` run at once (0: none,
        so that the sockets get the process), but none waits longer than ``LIVE_BUSY_MAX_DEFER_SECONDS``."""
        with self._lock:
            started = time.monotonic()
            waited = False
            while (self._running >= self._analysis_limit()
                   and time.monotonic() - started < settings.LIVE_BUSY_MAX_DEFER_SECONDS):
                if not waited:
                    waited = True
                    LIVE_SHED.labels(what="analysis_deferred").inc()
                self._slots.wait(0.25)
                self._update()
            self._running += 1
        try:
            yield
        finally:
            with self._lock:
                self._running -= 1
                self._slots.notify()

    def _analysis_limit(self) -> int:
        """Analysis threads allowed at once: few while busy; once ok, one more per LIVE_BUSY_HOLD_SECONDS
        (a slow start, so that the deferred backlog does not make the process busy again at once)."""
        if self.busy:
            return settings.LIVE_BUSY_ANALYSIS_WORKERS
        ramp = (time.monotonic() - self.changed_at) / max(settings.LIVE_BUSY_HOLD_SECONDS, 0.01)
        return settings.LIVE_BUSY_ANALYSIS_WORKERS + 1 + int(min(ramp, 1_000_000))

    def reset(self) -> None:
        """Back to idle (tests)."""
        with self._lock:
            self.ack_ms = self.loop_lag_ms = 0.0
            self.state, self._calm_since, self.changed_at = "ok", None, time.monotonic() - 1e6
            self._slots.notify_all()


LOAD = Load()
_monitored: set[int] = set()


async def _monitor(interval: float) -> None:
    while True:
        before = time.monotonic()
        await asyncio.sleep(interval)
        LOAD.loop_lag_observed(max(0.0, time.monotonic() - before - interval))


def monitor_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Watch how late this server loop runs (once per loop)."""
    if id(loop) in _monitored:
        return
    _monitored.add(id(loop))
    loop.create_task(_monitor(settings.LIVE_BUSY_LOOP_PROBE_SECONDS))


def load_frame(meeting: Any, *, busy: bool) -> dict[str, Any]:
    """The per-connection ``status`` frame saying to slow down (busy) or that all is well (ok)."""
    return load_status_frame(meeting, state="busy" if busy else "ok",
                             retry_after_ms=LOAD.retry_after_ms() if busy else 0, send_interims=not busy)


class InterimCoalescer:
    """Per connection: while the process is busy, the newest interim per speaker waits here briefly;
    the ones it replaces are never stored. A final caption of the speaker discards what waits."""

    def __init__(self) -> None:
        self.waiting: dict[str, Any] = {}  # speaker -> newest CaptionIn

    def hold(self, caption: Any) -> bool:
        """Keep ``caption`` instead of storing it now; True when it replaced an older one."""
        replaced = caption.speaker in self.waiting
        self.waiting[caption.speaker] = caption
        if replaced:
            LIVE_SHED.labels(what="interim").inc()
        return replaced

    def final_seen(self, caption: Any) -> None:
        held = self.waiting.get(caption.speaker)
        if held is not None and held.sequence <= caption.sequence:
            self.waiting.pop(caption.speaker, None)
            LIVE_SHED.labels(what="interim").inc()

    def take(self) -> list[Any]:
        taken, self.waiting = list(self.waiting.values()), {}
        return sorted(taken, key=lambda c: c.sequence)
