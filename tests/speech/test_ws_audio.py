"""A spoken meeting streamed through the real ASGI app and the real speech model (Whisper base).

Two espeak-ng voices; each pause is longer than the 700 ms that ends an utterance, so every turn
should come back as one final segment. Numbers seen are printed (run with ``-s``).
"""

from __future__ import annotations

import asyncio
import base64
import json
import statistics
import struct
import threading
import time

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async

from accounts.tenancy import tenant_scope
from meetings.live.audio import audio_streams_wait_closed
from meetings.live.pipeline import runners_wait_idle
from meetings.models import Meeting, TranscriptSegment
from meetings.speech import audio as audio_io
from meetings.speech import metrics, streaming
from tests.meetings.factories import meeting_make
from tests.meetings.live_helpers import close_thread_connections, communicator, hello, receive_until
from tests.speech import synth

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

SCRIPT = [
    ("alice", "Good morning everyone. The proposal for the new customer is ready for review."),
    ("bob", "Thanks. I will send the proposal by Friday."),
    ("alice", "Great. The pricing for the support plan goes in the appendix."),
]
CHUNK = 3200  # 100 ms of PCM16 mono at 16 kHz
MAX_WER = 0.35


@pytest.fixture(scope="module")
def spoken(speech_dir):
    files, turns = synth.meeting_files(speech_dir, "ws-live", SCRIPT, gap=1.1)
    return audio_io.float_to_pcm16(audio_io.decode(files["wav"])), turns


@pytest.fixture(autouse=True)
async def _settle():
    yield
    await audio_streams_wait_closed(120)
    await sync_to_async(runners_wait_idle, thread_sensitive=False)(timeout=30)
    await close_thread_connections()


@pytest.fixture
def meeting(company):
    return meeting_make(company=company, status=Meeting.Status.ACTIVE, title="Proposal review")


@pytest.fixture
def fed(monkeypatch):
    chunks: list[bytes] = []
    lock = threading.Lock()
    real_feed = streaming.LiveAudioTranscriber.feed

    def feed(self, pcm16):
        with lock:
            chunks.append(bytes(pcm16))
        real_feed(self, pcm16)

    monkeypatch.setattr(streaming.LiveAudioTranscriber, "feed", feed)
    return chunks


def stored(company, meeting):
    def read():
        with tenant_scope(company):
            return list(TranscriptSegment.objects.filter(meeting=meeting).order_by("start_time")
                        .values("client_id", "client_sequence", "text", "is_final", "source"))

    return database_sync_to_async(read, thread_sensitive=False)()


async def connect(meeting_id, token):
    comm = communicator(meeting_id, token=token)  # Origin header and the token subprotocol, like the extension
    connected, detail = await comm.connect(timeout=10)
    assert connected, detail
    return comm


async def collect(comm, frames: list[tuple[float, dict]], stop: asyncio.Event) -> None:
    """Read every frame with the time it arrived, until told to stop."""
    while not stop.is_set():
        if await comm.receive_nothing(timeout=0.02):  # (a receive that times out would stop the app)
            continue
        frames.append((time.monotonic(), json.loads(await comm.receive_from(timeout=1))))


async def test_binary_audio_in_real_time(whisper_model, meeting, admin, company, spoken):
    pcm, turns = spoken
    comm = await connect(meeting.pk, admin.token)
    await hello(comm, client_id="ext-live")
    frames: list[tuple[float, dict]] = []
    stop = asyncio.Event()
    reader = asyncio.create_task(collect(comm, frames, stop))
    chunks = [pcm[i : i + CHUNK] for i in range(0, len(pcm), CHUNK)]
    started = time.monotonic()
    for index, chunk in enumerate(chunks):  # paced like a microphone
        await comm.send_to(bytes_data=struct.pack(">I", index) + chunk)
        await asyncio.sleep(max(0.0, started + (index + 1) * CHUNK / 32000 - time.monotonic()))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not any(
            f["type"] == "action_item" and f["data"]["description"].lower().startswith("send the proposal")
            for _, f in frames):
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.3)
    stop.set()
    await reader

    acks = [f for _, f in frames if f["type"] == "ack"]
    assert [(a["sequence"], a["status"], a["stream"]) for a in acks] == [(i, "buffered", "audio")
                                                                         for i in range(len(chunks))]
    interims = [f for _, f in frames if f["type"] == "transcript" and not f["data"]["is_final"]]
    finals = [(at, f["data"]) for at, f in frames if f["type"] == "transcript" and f["data"]["is_final"]]
    assert len(interims) >= len(turns)  # about one a second while someone speaks
    assert len(finals) == len(turns), [f["text"] for _, f in finals]
    text = " ".join(f["text"] for _, f in finals)
    wer = metrics.word_error_rate(synth.reference_text(turns), text)
    # From the end of each spoken turn (the moment its last sample was sent) to its final event.
    latencies = [at - (started + turn.end) for (at, _), turn in zip(finals, turns, strict=True)]
    print(f"\nsocket WER {wer:.3f}; end of utterance -> final event: p50 {statistics.median(latencies):.2f} s, "
          f"max {max(latencies):.2f} s; {len(interims)} interim events; {text!r}")
    assert wer < MAX_WER, text
    assert max(latencies) < 4.0
    action = next(f["data"] for _, f in frames
                  if f["type"] == "action_item" and f["data"]["description"].lower().startswith("send the proposal"))
    assert action["segment_id"] == finals[1][1]["segment_id"] and action["due_date"]
    rows = await stored(company, meeting)
    assert [(r["is_final"], r["source"], r["client_id"]) for r in rows] == [(True, "audio", "ext-live#a0")] * len(turns)
    await comm.disconnect()


async def test_base64_audio_resent_after_a_reconnect_is_stored_once(whisper_model, meeting, admin, company, spoken,
                                                                    fed):
    pcm, turns = spoken
    chunks = [pcm[i : i + CHUNK] for i in range(0, len(pcm), CHUNK)]
    cut = int((turns[1].start + 1.0) * 10)  # the connection drops during the second turn

    def frame(index: int) -> dict:
        return {"type": "audio_chunk", "sequence": index, "data": base64.b64encode(chunks[index]).decode()}

    async def send(comm, indexes) -> list[dict]:
        frames: list[dict] = []
        for index in indexes:  # as fast as the socket takes them: the engine falls behind
            await comm.send_json_to(frame(index))
        for _ in indexes:
            await receive_until(comm, lambda f: f["type"] == "ack", collected=frames, timeout=30)
        return frames

    comm = await connect(meeting.pk, admin.token)
    await hello(comm, client_id="ext-b64")
    first = await send(comm, range(cut))
    await comm.disconnect()

    comm = await connect(meeting.pk, admin.token)
    await hello(comm, client_id="ext-b64")
    second = await send(comm, range(cut - 10, len(chunks)))  # resend the last second already acked, then on
    acks = [(f["sequence"], f["status"]) for f in second if f["type"] == "ack"]
    assert acks[:10] == [(i, "duplicate") for i in range(cut - 10, cut)]
    assert acks[10:] == [(i, "buffered") for i in range(cut, len(chunks))]
    await receive_until(comm, lambda f: f["type"] == "status" and f["data"]["kind"] == "audio"
                        and f["data"]["state"] == "ok", collected=second, timeout=60)
    statuses = [f["data"]["state"] for f in [*first, *second] if f["type"] == "status" and f["data"]["kind"] == "audio"]
    assert "lagging" in statuses  # fed faster than real time: said so, then caught up
    await comm.disconnect()
    assert await audio_streams_wait_closed(120)

    assert b"".join(fed) == pcm  # nothing fed twice, nothing missing
    rows = await stored(company, meeting)
    assert all(r["is_final"] and r["source"] == "audio" for r in rows)
    assert {r["client_id"] for r in rows} == {"ext-b64#a0", f"ext-b64#a{cut}"}
    assert len({(r["client_id"], r["client_sequence"]) for r in rows}) == len(rows)
    text = " ".join(r["text"] for r in rows)
    wer = metrics.word_error_rate(synth.reference_text(turns), text)
    print(f"\nbase64 + reconnect WER {wer:.3f}: {text!r}")
    assert wer < MAX_WER, text
