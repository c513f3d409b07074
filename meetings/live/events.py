"""The per-meeting event log: every server event gets the next id and a MeetingEvent row.

Ids come from ``Meeting.last_event_id``, bumped by an ``UPDATE ... RETURNING`` in the
transaction that inserts the MeetingEvent row. That row lock is held until commit, so a
meeting's events commit in id order: once event N is visible, every event below N is too.
The channel layer only carries events to connected clients after commit; a client that
missed some (a dropped group message, a reconnect) reads them back with ``events_since``.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Company
from meetings.live.payloads import event_frame
from meetings.live.protocol import EVENT_TYPES
from meetings.live.sql import Writes, fetchone
from meetings.models import Meeting, MeetingEvent

logger = logging.getLogger("meetpilot.live")

# The event loop of this process's ASGI server, when there is one: events emitted from worker
# threads are handed to it without waiting (see _group_send).
_server_loop: asyncio.AbstractEventLoop | None = None


def meeting_group(meeting_id: int) -> str:
    return f"meeting.{meeting_id}"


def company_group(company_id: int) -> str:
    return f"company.{company_id}"


_LOCK_SQL = f"SELECT status, last_event_id FROM {Meeting._meta.db_table} WHERE id = %s FOR NO KEY UPDATE"


def lock_meeting(meeting_id: int) -> tuple[str, int]:
    """Take the meeting's row lock for the rest of the transaction; returns (status, last_event_id).

    FOR NO KEY UPDATE does not conflict with the KEY SHARE locks that inserting child rows
    takes, so writers that insert first and emit later cannot deadlock with this.
    """
    assert connection.in_atomic_block, "lock_meeting needs a transaction"
    row = fetchone(_LOCK_SQL, [meeting_id])
    if row is None:
        raise Meeting.DoesNotExist(meeting_id)
    return row[0], row[1]


def event_emit(*, meeting: Meeting, type: str, payload: dict[str, Any]) -> MeetingEvent:
    """Log one event and publish it to the meeting's clients once the transaction commits."""
    assert type in EVENT_TYPES, type
    with transaction.atomic(savepoint=False):
        return _event_emit(meeting=meeting, type=type, payload=payload)


def event_add(writes: Writes, *, meeting: Meeting, type: str, payload: dict[str, Any],
              name: str = "ev") -> MeetingEvent:
    """Add to ``writes`` the parts that take the meeting's next event id and insert the event row (part
    ``name`` returns its id and event_id); ``event_logged`` completes the event from that row.

    GREATEST(...) keeps ids unique even if some code saved a stale Meeting without update_fields."""
    meetings, events = Meeting._meta.db_table, MeetingEvent._meta.db_table
    event = MeetingEvent(company_id=meeting.company_id, meeting_id=meeting.pk, type=type, payload=payload,
                         created_at=timezone.now())
    payload_db = MeetingEvent._meta.get_field("payload").get_db_prep_save(payload, connection)
    writes.add(f"{name}_next", f"UPDATE {meetings} SET last_event_id = GREATEST(last_event_id, "
               f"COALESCE((SELECT MAX(event_id) FROM {events} WHERE meeting_id = %s), 0)) + 1 "
               f"WHERE id = %s RETURNING last_event_id", [meeting.pk, meeting.pk])
    writes.add(name, f"INSERT INTO {events} (company_id, meeting_id, event_id, type, payload, created_at) "
               f"SELECT %s, %s, n.last_event_id, %s::varchar, %s, %s FROM {name}_next n RETURNING id, event_id",
               [meeting.company_id, meeting.pk, type, payload_db, event.created_at])
    return event


def event_logged(meeting: Meeting, event: MeetingEvent, row: Sequence[Any] | None) -> MeetingEvent:
    """The event of ``event_add`` with its id and event id (``row``), published once the transaction commits."""
    if row is None or row[0] is None:
        raise Meeting.DoesNotExist(meeting.pk)
    event.pk, event.event_id = row
    event._state.adding, event._state.db = False, connection.alias
    meeting.last_event_id = event.event_id
    frame = event_frame(event)
    targets = [meeting_group(meeting.pk)]
    if event.type == "status":  # company-wide dashboards follow meetings starting and ending
        targets.append(company_group(meeting.company_id))
    transaction.on_commit(lambda: event_publish(frame, groups=targets))
    return event


def _event_emit(*, meeting: Meeting, type: str, payload: dict[str, Any]) -> MeetingEvent:
    writes = Writes()
    event = event_add(writes, meeting=meeting, type=type, payload=payload)
    return event_logged(meeting, event, writes.run("SELECT id, event_id FROM ev"))


def events_since(*, company: Company, meeting: Meeting, after_event_id: int, limit: int = 500,
                 until_event_id: int | None = None) -> list[MeetingEvent]:
    """Events of ``meeting`` with ids in (after_event_id, until_event_id], oldest first."""
    assert meeting.company_id == company.pk
    queryset = MeetingEvent.objects.for_company(company).filter(meeting_id=meeting.pk, event_id__gt=after_event_id)
    if until_event_id is not None:
        queryset = queryset.filter(event_id__lte=until_event_id)
    return list(queryset.order_by("event_id")[:limit])


def event_publish(frame: dict[str, Any], *, groups: list[str]) -> None:
    """Hand a committed event to the channel layer. Never raises: the log is the source of truth."""
    message = {"type": "live.event", "event": frame}
    try:
        _group_send([(group, message) for group in groups])
    except Exception:
        logger.exception("publishing event %s of meeting %s failed", frame.get("event_id"), frame.get("meeting_id"))


def bind_server_loop(loop: asyncio.AbstractEventLoop) -> None:
    global _server_loop
    _server_loop = loop


def publisher_loop_start() -> asyncio.AbstractEventLoop:
    """For a long-running process without a server loop (``live_worker``): an event loop on a thread of its own
    that publishes its events. Without it each event would start and stop a loop of its own (``async_to_sync``)
    with a new Redis connection: milliseconds per event, on the analysis' threads."""
    loop = asyncio.new_event_loop()
    running = threading.Event()
    loop.call_soon(running.set)
    threading.Thread(target=loop.run_forever, name="live-publisher", daemon=True).start()
    running.wait(5)  # bound once it runs: until then an event would still take the slow way
    bind_server_loop(loop)
    return loop


_send_locks: dict[asyncio.AbstractEventLoop, dict[str, asyncio.Lock]] = {}
MAX_SEND_LOCKS = 5000


async def _send_all(messages: list[tuple[str, dict[str, Any]]]) -> None:
    # One publish at a time per meeting group (asyncio.Lock is FIFO), so events handed over in id
    # order reach the group in that order; clients still fill any gap from the log.
    loop = asyncio.get_running_loop()
    locks = _send_locks.get(loop)
    if locks is None:
        for stale in [key for key in _send_locks if key.is_closed()]:
            _send_locks.pop(stale, None)
        locks = _send_locks[loop] = {}
    key = messages[0][0]
    lock = locks.get(key)
    if lock is None:
        if len(locks) >= MAX_SEND_LOCKS:
            for idle in [name for name, held in locks.items() if not held.locked()]:
                locks.pop(idle, None)
        lock = locks[key] = asyncio.Lock()
    layer = get_channel_layer()
    async with lock:
        for group, message in messages:
            await layer.group_send(group, message)


def _log_failure(future: Future) -> None:
    if not future.cancelled() and future.exception() is not None:
        logger.error("publishing an event failed: %r", future.exception())


def _group_send(messages: list[tuple[str, dict[str, Any]]]) -> None:
    if get_channel_layer() is None:
        return
    loop = _server_loop
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is not None:  # on the loop itself (not expected: emit is synchronous DB code)
        running.create_task(_send_all(messages))
    elif loop is not None and loop.is_running() and not loop.is_closed():
        # From a worker thread of the server: queue it on the server's loop and move on.
        asyncio.run_coroutine_threadsafe(_send_all(messages), loop).add_done_callback(_log_failure)
    else:  # scripts, Celery, tests without a server loop
        async_to_sync(_send_all)(messages)
