"""A busy process over the socket: the load status frame, coalesced interims, finals acked as usual."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async

from meetings.live.load import LOAD
from meetings.live.pipeline import runners_wait_idle
from meetings.live.protocol import AckOut, StatusEvent
from meetings.models import Meeting
from tests.meetings.factories import meeting_make
from tests.meetings.live_helpers import caption_frame, close_thread_connections, communicator, hello, receive_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@pytest.fixture
def busy_after_one_ack(settings):
    """Limits no real ack meets: the process turns busy at its first caption and stays so."""
    settings.LIVE_BUSY_ACK_MS = settings.LIVE_BUSY_LOOP_LAG_MS = 0.001
    settings.LIVE_BUSY_HOLD_SECONDS = 60
    settings.LIVE_INTERIM_FLUSH_SECONDS = 1.0
    LOAD.reset()
    yield
    LOAD.reset()


async def test_a_busy_process_says_so_coalesces_interims_and_still_stores_finals(company, admin, busy_after_one_ack):
    meeting = await sync_to_async(meeting_make)(company=company, status=Meeting.Status.ACTIVE)
    comm = communicator(meeting.pk, token=admin.token)
    assert (await comm.connect(timeout=10))[0]
    await hello(comm, client_id="ext-1")
    frames: list[dict] = []
    await comm.send_json_to(caption_frame(1, "Morning all.", speaker="Dana"))
    assert (await receive_until(comm, lambda f: f["type"] == "ack", collected=frames))["status"] == "stored"
    assert LOAD.busy

    await comm.send_json_to(caption_frame(2, "I will", speaker="Dana", is_final=False))
    status = await receive_until(comm, lambda f: f["type"] == "status" and f["data"]["kind"] == "load",
                                 collected=frames)
    StatusEvent.model_validate(status)  # the documented schema
    assert status["event_id"] is None and status["data"]["state"] == "busy"
    assert status["data"]["send_interims"] is False and status["data"]["retry_after_ms"] >= 1000
    first = await receive_until(comm, lambda f: f["type"] == "ack", collected=frames)
    await comm.send_json_to(caption_frame(2, "I will send the", speaker="Dana", is_final=False))
    second = await receive_until(comm, lambda f: f["type"] == "ack", collected=frames)
    assert [first["status"], second["status"]] == ["coalesced", "coalesced"]
    AckOut.model_validate(second)
    # The newest interim is stored and broadcast shortly after; the one it replaced never is.
    stored = await receive_until(comm, lambda f: f["type"] == "transcript" and not f["data"]["is_final"],
                                 collected=frames)
    assert stored["data"]["text"] == "I will send the", frames

    await comm.send_json_to(caption_frame(2, "I will send the pricing sheet by Friday.", speaker="Dana"))
    final = await receive_until(comm, lambda f: f["type"] == "ack", collected=frames)
    assert final["status"] == "updated" and final["segment_id"] == stored["data"]["segment_id"]
    await asyncio.sleep(0.3)
    await comm.disconnect()
    await sync_to_async(runners_wait_idle, thread_sensitive=False)(timeout=20)
    await close_thread_connections()
    texts = [f["data"]["text"] for f in frames if f["type"] == "transcript"]
    assert "I will" not in texts
    assert [f for f in frames if f["type"] == "status" and f["data"]["kind"] == "load"] == [status]  # told once
