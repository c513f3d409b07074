"""``LIVE_ANALYSIS_MODE=worker``: the web side only stores and owes; a live worker's round analyses what is owed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from accounts.tenancy import tenant_scope
from meetings.live.pipeline import live_worker_run, runners_wait_idle
from meetings.live.session import caption_submit
from meetings.models import LiveAnalysisWork, Meeting
from tests.meetings.factories import meeting_make
from tests.meetings.live_helpers import caption

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db(transaction=True)
def test_the_web_side_owes_and_a_worker_round_analyses(company, settings):
    settings.LIVE_ANALYSIS_MODE = "worker"
    with tenant_scope(company):
        meeting = meeting_make(company=company, status=Meeting.Status.ACTIVE)
        for sequence, text in enumerate(["Good morning everyone", "I will send the pricing sheet by Friday"], 1):
            caption_submit(company=company, meeting=meeting, client_id="ext", caption=caption(sequence, text))
        assert runners_wait_idle(5)
        assert LiveAnalysisWork.objects.filter(meeting=meeting).count() == 2  # owed, not analysed here
    niceness = os.nice(0)
    live_worker_run(poll=0, rounds=1)
    assert runners_wait_idle(30)
    with tenant_scope(company):
        assert not LiveAnalysisWork.objects.filter(meeting=meeting).exists()
    assert os.nice(0) == niceness  # a round run in some other process leaves its priority alone


@pytest.mark.django_db(transaction=True)
def test_a_question_found_by_a_worker_is_answered_in_the_same_round(company, settings):
    settings.LIVE_ANALYSIS_MODE = "worker"
    with tenant_scope(company):
        meeting = meeting_make(company=company, status=Meeting.Status.ACTIVE, kind=Meeting.Kind.SALES)
        caption_submit(company=company, meeting=meeting, client_id="ext",
                       caption=caption(1, "Does your platform support single sign-on with Okta?", speaker="Priya"))
    live_worker_run(poll=0, rounds=1)  # finds the line only: its question is owed once the line is analysed
    assert runners_wait_idle(30)
    with tenant_scope(company):
        assert not LiveAnalysisWork.objects.filter(meeting=meeting).exists()  # the question's answer too


def test_a_live_worker_process_yields_the_cpu_by_live_worker_nice():
    code = (
        "import os, django; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'meetpilot.settings.base'); "
        "django.setup(); from meetings.live.pipeline import worker_priority_lower; "
        "before = os.nice(0); print(before, worker_priority_lower())"
    )
    env = {**os.environ, "LIVE_WORKER_NICE": "7"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    before, after = (int(x) for x in out.stdout.split()[-2:])
    assert after == min(19, before + 7)


@pytest.mark.asyncio
async def test_a_live_workers_events_go_out_through_its_own_publisher_loop(monkeypatch):
    import asyncio

    from asgiref.sync import sync_to_async
    from channels.layers import get_channel_layer

    from meetings.live import events

    monkeypatch.setattr(events, "_server_loop", None)
    layer = get_channel_layer()
    sent_on: list[asyncio.AbstractEventLoop] = []
    group_send = layer.group_send

    async def recording_group_send(group, message):
        sent_on.append(asyncio.get_running_loop())
        await group_send(group, message)

    monkeypatch.setattr(layer, "group_send", recording_group_send)
    channel = await layer.new_channel()
    await layer.group_add("meeting.987654", channel)
    loop = events.publisher_loop_start()
    try:
        for event_id in (1, 2, 3):  # from the analysis' threads, as a live worker's drains publish
            await sync_to_async(events.event_publish, thread_sensitive=False)(
                {"event_id": event_id, "meeting_id": 987654}, groups=["meeting.987654"])
        received = [await asyncio.wait_for(layer.receive(channel), 5) for _ in range(3)]
        assert [m["event"]["event_id"] for m in received] == [1, 2, 3]  # in order
        assert sent_on == [loop] * 3  # one loop for all, not one started for each event
    finally:
        loop.call_soon_threadsafe(loop.stop)
        await layer.group_discard("meeting.987654", channel)
