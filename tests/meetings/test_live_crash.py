"""Nothing acknowledged is lost: kill -9 the web process between the acks and the analysis.

A real daphne takes a sales call's captions over a real WebSocket and acks them; its analysis is
slowed down (LIVE_ANALYSIS_DELAY_SECONDS) so that it is killed with most segments still owed. A
new daphne is started, the client reconnects, and the new process catches up. The oracle is the
same call analysed without any crash (inline, in this process): every segment's findings must
exist exactly as often as there (none missing, none twice), and so must their events.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import Counter
from datetime import datetime

import pytest
import websockets
from django.utils import timezone

from accounts.tenancy import tenant_scope
from meetings.live.ingest import caption_ingest
from meetings.models import (
    ActionItem,
    AnalyticsEvent,
    FactCheck,
    LiveAnalysisCursor,
    LiveAnalysisWork,
    Meeting,
    MeetingEvent,
    Suggestion,
    TranscriptSegment,
)
from tests.meetings.factories import meeting_make
from tests.meetings.live_helpers import caption
from tests.meetings.live_servers import ORIGIN, Daphne

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

MEETING_START = datetime(2025, 3, 12, 15, 0, tzinfo=timezone.get_current_timezone())
REPORT = ("Acme quarterly report. Financial results for the third quarter: Q3 revenue was $21.3 million, "
          "up 12% year over year. Gross margin was 71%. Headcount grew to 240 employees.")
SECURITY_FAQ = ("Acme security FAQ. Does Acme support single sign-on? Yes: Acme supports single sign-on (SSO) "
                "with Okta, Azure AD and Google Workspace through SAML 2.0. Is customer data encrypted? All customer "
                "data is encrypted at rest with AES-256 and in transit with TLS 1.2 or later.")
SCRIPT = [
    ("Dana Seller", "Thanks for joining today, Priya. Let me walk you through the platform."),
    ("Priya Buyer", "Does your platform support single sign-on with Okta?"),
    ("Dana Seller", "Our Q3 revenue was eighteen point seven million dollars, so we are growing fast."),
    ("Dana Seller", "I will send you the security questionnaire by Friday, it is urgent."),
    ("Priya Buyer", "Okay. We decided to go with the annual plan."),
    ("Priya Buyer", "Is customer data encrypted at rest?"),
    ("Dana Seller", "To be precise, Q3 revenue was twenty one point three million dollars."),
    ("Dana Seller", "I will send you the reference list by Monday."),
    ("Priya Buyer", "Great, we agreed to start with a pilot team."),
    ("Dana Seller", "Our gross margin was seventy one percent last quarter."),
]
SLOW = {"LIVE_ANALYSIS_DELAY_SECONDS": "0.7", "LIVE_ANALYSIS_LEASE_SECONDS": "2", "LIVE_ANALYSIS_SWEEP_SECONDS": "0.5",
        "LIVE_ANALYSIS_SWEEP_AFTER_SECONDS": "0", "LIVE_ANALYSIS_WORKERS": "1"}


def _frame(seq: int) -> dict:
    speaker, text = SCRIPT[seq - 1]
    return {"type": "caption", "sequence": seq, "speaker": speaker, "text": text, "is_final": True,
            "start": seq * 5.0, "end": seq * 5.0 + 4}


def _open(host: str, meeting_id: int, token: str):
    return websockets.connect(f"ws://{host}/ws/meetings/{meeting_id}/", origin=ORIGIN,
                              subprotocols=["meetpilot.v1", f"meetpilot.token.{token}"], open_timeout=20)


def _findings(company, meeting) -> dict[str, Counter]:
    """What the live analysis left, per caption (its client sequence), and the events announcing it."""
    with tenant_scope(company):
        seq_of = dict(TranscriptSegment.objects.filter(meeting=meeting).values_list("pk", "sequence"))
        questions = [seq_of[d["segment_id"]] for d in AnalyticsEvent.objects.filter(
            meeting=meeting, kind=AnalyticsEvent.Kind.QUESTION).values_list("data", flat=True)]
        return {
            "questions": Counter(questions),
            "fact_checks": Counter(FactCheck.objects.filter(meeting=meeting).values_list("segment__sequence",
                                                                                          "verdict")),
            "suggestions": Counter(Suggestion.objects.filter(meeting=meeting, kind="suggestion")
                                   .values_list("segment__sequence", flat=True)),
            "action_items": Counter(ActionItem.objects.filter(meeting=meeting)
                                    .values_list("source_segment__sequence", flat=True)),
            "decisions": Counter(meeting.decisions.values_list("text", flat=True)),
            "events": Counter(MeetingEvent.objects.filter(meeting=meeting).exclude(type__in=["transcript", "status"])
                              .values_list("type", flat=True)),
        }


def _owed(company, meeting) -> int:
    with tenant_scope(company):
        return LiveAnalysisWork.objects.filter(meeting=meeting).count()


def _analysed(company, meeting) -> int:
    with tenant_scope(company):
        cursor = LiveAnalysisCursor.objects.filter(meeting=meeting).first()
        return cursor.analysed if cursor else 0


def _wait(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def test_kill_9_after_the_acks_loses_no_analysis_and_repeats_none(company, admin, settings):
    from tests.knowledge.factories import document_ingested

    document_ingested(company=company, title="Q3 report", text=REPORT)
    document_ingested(company=company, title="Security FAQ", text=SECURITY_FAQ)

    # The oracle: the same call analysed without a crash, inline in this process.
    settings.LIVE_ANALYSIS_MODE = "inline"
    reference = meeting_make(company=company, status=Meeting.Status.ACTIVE, kind=Meeting.Kind.SALES,
                             started_at=MEETING_START)
    with tenant_scope(company):
        for seq, (speaker, text) in enumerate(SCRIPT, start=1):
            result = caption_ingest(company=company, meeting=reference, client_id="ref", caption=caption(
                seq, text, speaker=speaker, start=seq * 5.0, end=seq * 5.0 + 4))
            assert result.status == "stored"
    expected = _findings(company, reference)
    for kind in ("questions", "fact_checks", "suggestions", "action_items", "decisions"):
        assert expected[kind], f"the script should produce {kind}"

    meeting = meeting_make(company=company, status=Meeting.Status.ACTIVE, kind=Meeting.Kind.SALES,
                           started_at=MEETING_START)
    first = Daphne(**SLOW)
    try:
        async def send_all() -> list[dict]:
            acks = []
            async with _open(first.host, meeting.pk, admin.token) as ws:
                await ws.send(json.dumps({"type": "hello", "client_id": "crash-1"}))
                for seq in range(1, len(SCRIPT) + 1):
                    await ws.send(json.dumps(_frame(seq)))
                while len(acks) < len(SCRIPT):
                    frame = json.loads(await asyncio.wait_for(ws.recv(), 20))
                    if frame["type"] in ("ack", "error"):
                        acks.append(frame)
            return acks

        acks = asyncio.run(send_all())
        assert [(a["type"], a.get("status")) for a in acks] == [("ack", "stored")] * len(SCRIPT)
        # Mid-meeting: some segments analysed, most still owed.
        _wait(lambda: _analysed(company, meeting) >= 2, 90, "the first analyses")
        first.kill()
    finally:
        first.stop()
    owed_at_crash = _owed(company, meeting)
    assert 0 < owed_at_crash < len(SCRIPT), owed_at_crash
    with tenant_scope(company):  # every acked caption is stored
        assert TranscriptSegment.objects.filter(meeting=meeting, is_final=True).count() == len(SCRIPT)

    second = Daphne(**SLOW)
    stop = threading.Event()
    received: list[dict] = []

    async def reconnect() -> None:
        async with _open(second.host, meeting.pk, admin.token) as ws:
            await ws.send(json.dumps({"type": "hello", "client_id": "crash-1", "last_event_id": 0}))
            while not stop.is_set():
                try:
                    received.append(json.loads(await asyncio.wait_for(ws.recv(), 0.2)))
                except TimeoutError:
                    pass

    client = threading.Thread(target=asyncio.run, args=(reconnect(),))
    client.start()
    try:
        _wait(lambda: _owed(company, meeting) == 0, 90, "the catch-up")
        time.sleep(1.5)  # anything that would repeat a finding has had time to
    finally:
        stop.set()
        client.join(10)
        second.stop()

    assert _findings(company, meeting) == expected
    assert _analysed(company, meeting) == len(SCRIPT)
    event_ids = [f["event_id"] for f in received if f.get("event_id")]
    assert event_ids == sorted(set(event_ids)), "the reconnected client saw each event once, in order"
    assert any(f["type"] == "suggestion" for f in received)  # the catch-up reached the client too
