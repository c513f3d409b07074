"""Back-pressure: one daphne flooded with captions says it is busy, keeps acking, loses nothing.

Several meetings' clients send interim and final captions as fast as the socket takes them. The
process must tell them to slow down (a ``status`` frame of kind ``load``), coalesce interims
(acked ``coalesced``, only the newest stored), ack every final as stored, say when it is fine
again, and in the end have stored and analysed every final caption it acked, exactly once.
"""

from __future__ import annotations

import asyncio
import json
import time

import pytest
import websockets

from accounts.tenancy import tenant_scope
from meetings.models import LiveAnalysisCursor, LiveAnalysisWork, Meeting, TranscriptSegment
from tests.meetings.factories import meeting_make
from tests.meetings.live_servers import ORIGIN, Daphne

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

MEETINGS = 8
UTTERANCES = 15
FLOOD = {"LIVE_BUSY_ACK_MS": "80", "LIVE_BUSY_LOOP_LAG_MS": "15", "LIVE_BUSY_HOLD_SECONDS": "1",
         "LIVE_CONNECTION_BURST": "1000", "LIVE_COMPANY_BURST": "5000", "LIVE_INTERIM_FLUSH_SECONDS": "0.2",
         "LIVE_BUSY_ANALYSIS_WORKERS": "0"}


def _open(host: str, meeting_id: int, token: str):
    return websockets.connect(f"ws://{host}/ws/meetings/{meeting_id}/", origin=ORIGIN,
                              subprotocols=["meetpilot.v1", f"meetpilot.token.{token}"], open_timeout=20,
                              max_queue=None)


async def _flood(host: str, meeting_id: int, token: str) -> dict:
    seen = {"acks": {}, "load": [], "errors": []}
    async with _open(host, meeting_id, token) as ws:
        await ws.send(json.dumps({"type": "hello", "client_id": f"flood-{meeting_id}"}))

        async def read() -> None:
            async for raw in ws:
                frame = json.loads(raw)
                if frame["type"] == "ack":
                    seen["acks"].setdefault(frame["sequence"], []).append(frame["status"])
                elif frame["type"] == "error":
                    seen["errors"].append(frame)
                elif frame["type"] == "status" and frame["data"]["kind"] == "load":
                    seen["load"].append(frame["data"])

        reader = asyncio.create_task(read())
        for seq in range(1, UTTERANCES + 1):
            words = f"Line {seq} of meeting {meeting_id}: I will send the pricing sheet by Friday.".split()
            for cut in (3, 6):
                await ws.send(json.dumps({"type": "caption", "sequence": seq, "speaker": "Dana",
                                          "text": " ".join(words[:cut]), "is_final": False}))
            await ws.send(json.dumps({"type": "caption", "sequence": seq, "speaker": "Dana",
                                      "text": " ".join(words), "is_final": True}))
        deadline = time.monotonic() + 60
        while (sum(len(seen["acks"].get(seq, [])) == 3 for seq in range(1, UTTERANCES + 1)) < UTTERANCES
               and time.monotonic() < deadline):
            await asyncio.sleep(0.1)
        # Quiet now: a final caption every half second until the process has said for a while that it is
        # fine again (it may turn busy once more while the deferred analysis catches up).
        seq, ok_since = UTTERANCES, None
        while time.monotonic() < deadline:
            if seen["load"] and seen["load"][-1]["state"] == "ok":
                ok_since = ok_since or time.monotonic()
                if time.monotonic() - ok_since >= 1 and seq in seen["acks"]:  # (a load frame precedes its ack)
                    break
            else:
                ok_since = None
            await asyncio.sleep(0.5)
            seq += 1
            await ws.send(json.dumps({"type": "caption", "sequence": seq, "speaker": "Dana",
                                      "text": f"Calm line {seq}.", "is_final": True}))
        while seq not in seen["acks"] and time.monotonic() < deadline + 20:  # the last calm caption's ack
            await asyncio.sleep(0.1)
        seen["sent_finals"] = seq
        reader.cancel()
    return seen


def test_a_flooded_process_says_busy_keeps_acking_and_loses_nothing(company, admin):
    meetings = [meeting_make(company=company, status=Meeting.Status.ACTIVE) for _ in range(MEETINGS)]
    server = Daphne(**FLOOD)
    try:
        async def all_clients() -> list[dict]:
            return await asyncio.gather(*(_flood(server.host, m.pk, admin.token) for m in meetings))

        results = asyncio.run(all_clients())

        def owed() -> int:
            with tenant_scope(company):
                return LiveAnalysisWork.objects.filter(meeting__in=meetings).count()

        deadline = time.monotonic() + 60
        while owed() and time.monotonic() < deadline:
            time.sleep(0.3)
    finally:
        server.stop()
        print(server.process.stdout.read().decode()[-5000:])

    busy = [d for r in results for d in r["load"] if d["state"] == "busy"]
    assert busy, "no client was told to slow down"
    assert all(d["send_interims"] is False and d["retry_after_ms"] >= 1000 for d in busy)
    for result in results:  # told to slow down, then (at least once) that all is well again
        states = [d["state"] for d in result["load"]]
        assert "busy" in states and "ok" in states[states.index("busy"):], states
        assert all(d["send_interims"] is True for d in result["load"] if d["state"] == "ok")
    assert not [e for r in results for e in r["errors"]]
    statuses = [s for r in results for statuses in r["acks"].values() for s in statuses]
    assert "coalesced" in statuses  # interims were shed while busy
    for result in results:  # every frame acked once; every final stored (new, or its interim made final)
        for seq in range(1, result["sent_finals"] + 1):
            acks = result["acks"][seq]
            assert len(acks) == (3 if seq <= UTTERANCES else 1), (seq, acks)
            assert acks[-1] in ("stored", "updated"), (seq, acks)
    assert owed() == 0
    with tenant_scope(company):
        for meeting, result in zip(meetings, results, strict=True):
            finals = TranscriptSegment.objects.filter(meeting=meeting, is_final=True)
            assert finals.count() == result["sent_finals"]
            assert not TranscriptSegment.objects.filter(meeting=meeting, is_final=False).exists()
            assert sorted(finals.values_list("client_sequence", flat=True)) == list(
                range(1, result["sent_finals"] + 1))
            assert LiveAnalysisCursor.objects.get(meeting=meeting).analysed == result["sent_finals"]
