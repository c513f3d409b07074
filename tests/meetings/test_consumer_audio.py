"""Audio over the meeting WebSocket, with a fake speech model (the real one: tests/speech/test_ws_audio.py).

The voice activity detection is real (Silero on espeak-ng speech), so utterances are cut where
the speech pauses; only the transcription is replaced, by the known text of the spoken turn.
"""

from __future__ import annotations

import asyncio
import base64
import json
import struct
import threading
import time
from collections import OrderedDict
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.utils import timezone

from accounts.tenancy import tenant_scope
from meetings.live.audio import audio_final_store, audio_interim_store, audio_streams_wait_closed
from meetings.live.ingest import caption_ingest
from meetings.live.pipeline import runners_wait_idle
from meetings.live.protocol import AckOut, ErrorOut, StatusEvent, TranscriptEvent
from meetings.models import ActionItem, Meeting, TranscriptSegment
from meetings.speech import audio as audio_io
from meetings.speech import streaming
from meetings.speech.types import SttSegment
from tests.meetings.factories import meeting_make
from tests.meetings.live_helpers import (
    caption,
    caption_frame,
    close_thread_connections,
    communicator,
    hello,
    receive,
    receive_until,
)
from tests.speech import synth

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

SCRIPT = [
    ("alice", "Good morning everyone. The proposal for the new customer is ready for review."),
    ("bob", "I will send the proposal by Friday."),
]
CHUNK_BYTES = 3200  # 100 ms of PCM16 at 16 kHz


@pytest.fixture(scope="module")
def spoken(tmp_path_factory):
    """The script spoken by two espeak-ng voices, pauses long enough to end each utterance; PCM16 bytes."""
    files, turns = synth.meeting_files(tmp_path_factory.mktemp("ws-audio"), "ws-audio", SCRIPT, gap=1.1)
    return audio_io.float_to_pcm16(audio_io.decode(files["wav"])), turns


@pytest.fixture
def fake_model(monkeypatch, spoken):
    """Transcription by lookup: the turn as long as the audio, else a made-up piece of it; records every call."""
    _, turns = spoken
    calls: list[float] = []
    delay = {"seconds": 0.0}

    def transcribe(audio, *, language):
        seconds = audio.size / 16000
        calls.append(seconds)
        if delay["seconds"]:
            time.sleep(delay["seconds"])
        turn = min(turns, key=lambda t: abs((t.end - t.start) - seconds))
        text = turn.text if abs(turn.end - turn.start - seconds) < 0.7 else f"part of it, {seconds:.2f} seconds"
        return [SttSegment(0.0, seconds, text, confidence=0.9, language="en")]

    monkeypatch.setattr(streaming, "_default_transcribe", transcribe)
    monkeypatch.setattr(streaming, "_default_detect", lambda audio: ("en", 0.99))
    return {"calls": calls, "delay": delay}


@pytest.fixture
def fed(monkeypatch):
    """Every byte any engine was fed, in order."""
    chunks: list[bytes] = []
    lock = threading.Lock()
    real_feed = streaming.LiveAudioTranscriber.feed

    def feed(self, pcm16):
        with lock:
            chunks.append(bytes(pcm16))
        real_feed(self, pcm16)

    monkeypatch.setattr(streaming.LiveAudioTranscriber, "feed", feed)
    return chunks


@pytest.fixture(autouse=True)
async def _settle():
    yield
    await audio_streams_wait_closed(60)
    await sync_to_async(runners_wait_idle, thread_sensitive=False)(timeout=20)
    await close_thread_connections()


@pytest.fixture
def meeting(company):
    return meeting_make(company=company, status=Meeting.Status.ACTIVE, title="Proposal review", language="en")


def _db(company, fn):
    def run():
        with tenant_scope(company):
            return fn()

    return database_sync_to_async(run, thread_sensitive=False)()


def audio_rows(company, meeting):
    return _db(company, lambda: list(
        TranscriptSegment.objects.filter(meeting=meeting).order_by("sequence")
        .values("client_id", "client_sequence", "text", "is_final", "source", "speaker_label", "start_time",
                "end_time")))


def chunks_of(pcm: bytes, size: int = CHUNK_BYTES) -> list[bytes]:
    return [pcm[i : i + size] for i in range(0, len(pcm), size)]


def binary(sequence: int, pcm: bytes) -> bytes:
    return struct.pack(">I", sequence) + pcm


def audio_chunk(sequence: int, pcm: bytes, **extra) -> dict:
    return {"type": "audio_chunk", "sequence": sequence, "data": base64.b64encode(pcm).decode(), **extra}


async def connect(meeting_id, **kwargs):
    comm = communicator(meeting_id, **kwargs)
    connected, detail = await comm.connect(timeout=10)
    assert connected, f"rejected with {detail}"
    return comm


async def send_all(comm, chunks, *, first=0, as_json=False, **extra) -> list[dict]:
    """Send the chunks numbered from ``first``; return every frame read until all are acked."""
    frames: list[dict] = []
    for index, pcm in enumerate(chunks):
        if as_json:
            await comm.send_json_to(audio_chunk(first + index, pcm, **(extra if index == 0 else {})))
        else:
            await comm.send_to(bytes_data=binary(first + index, pcm))
    wanted = {first + i for i in range(len(chunks))}
    while wanted:
        frame = await receive_until(comm, lambda f: f["type"] in ("ack", "error"), collected=frames, timeout=20)
        if frame["type"] == "ack":
            wanted.discard(frame["sequence"])
        else:
            raise AssertionError(frame)
    return frames


async def wait_for(predicate, *, seconds: float = 30.0):
    deadline = time.monotonic() + seconds
    while True:
        value = await predicate()
        if value or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.1)


# --- the happy path --------------------------------------------------------------------------


async def test_binary_audio_is_acked_transcribed_stored_and_analysed(meeting, admin, company, spoken, fake_model, fed):
    pcm, turns = spoken
    comm = await connect(meeting.pk, token=admin.token)
    await hello(comm, client_id="ext-1")
    chunks = chunks_of(pcm)
    frames = await send_all(comm, chunks)
    acks = [f for f in frames if f["type"] == "ack"]
    for ack in acks:
        AckOut.model_validate(ack)
    assert [(a["sequence"], a["status"], a["stream"]) for a in acks] == [(i, "buffered", "audio")
                                                                         for i in range(len(chunks))]
    frames += [await receive_until(comm, lambda f: f["type"] == "action_item", collected=frames, timeout=30)]
    transcripts = [f for f in frames if f["type"] == "transcript"]
    for frame in transcripts:
        TranscriptEvent.model_validate(frame)
    finals = [f["data"] for f in transcripts if f["data"]["is_final"]]
    assert [f["text"] for f in finals] == [t.text for t in turns]
    assert all(f["client_id"] == "ext-1#a0" for f in finals)
    assert [f["client_sequence"] for f in finals] == [0, 1]
    for final, turn in zip(finals, turns, strict=True):  # placed in the meeting where the audio began
        assert final["end"] - final["start"] == pytest.approx(turn.end - turn.start, abs=0.6)
    action = frames[-1]["data"]
    assert action["description"].lower().startswith("send the proposal") and action["segment_id"] == finals[1][
        "segment_id"]
    rows = await audio_rows(company, meeting)
    assert [(r["text"], r["is_final"], r["source"]) for r in rows] == [(t.text, True, "audio") for t in turns]
    assert b"".join(fed) == pcm  # every byte fed once, in order
    await comm.disconnect()


async def test_interims_while_speaking_then_the_final_replaces_them(meeting, admin, company, spoken, fake_model):
    pcm, turns = spoken
    comm = await connect(meeting.pk, token=admin.token)
    await hello(comm, client_id="ext-1")
    frames: list[dict] = []
    first_turn = chunks_of(pcm[: int((turns[0].end + 1.0) * 32000) & ~1])
    started = time.monotonic()
    for index, pcm_chunk in enumerate(first_turn):  # at the speed of speech, so the engine keeps up
        await comm.send_to(bytes_data=binary(index, pcm_chunk))
        await asyncio.sleep(max(0.0, started + (index + 1) * 0.1 - time.monotonic()))
    await receive_until(comm, lambda f: f["type"] == "transcript" and f["data"]["is_final"], collected=frames,
                        timeout=20)
    interims = [f["data"] for f in frames if f["type"] == "transcript" and not f["data"]["is_final"]]
    final = frames[-1]["data"]
    assert interims and all(i["segment_id"] == final["segment_id"] for i in interims)
    assert final["update"] is True and final["start"] <= interims[0]["start"]
    rows = await audio_rows(company, meeting)
    assert [(r["text"], r["is_final"]) for r in rows] == [(turns[0].text, True)]
    await comm.disconnect()


async def test_lagging_is_reported_and_nothing_is_dropped(meeting, admin, company, spoken, fake_model, fed):
    pcm, turns = spoken
    fake_model["delay"]["seconds"] = 1.5  # slower than real time: the backlog grows past 2 s
    comm = await connect(meeting.pk, token=admin.token)
    await hello(comm)
    frames = await send_all(comm, chunks_of(pcm))
    statuses: list[dict] = []
    while len(statuses) < 2:
        frame = await receive_until(comm, lambda f: f["type"] == "status" and f["data"]["kind"] == "audio",
                                    collected=frames, timeout=60)  # drains slower on a loaded machine
        StatusEvent.model_validate(frame)
        statuses.append(frame["data"])
    assert statuses[0]["state"] == "lagging" and statuses[0]["lag_seconds"] > 2.0
    assert statuses[1]["state"] == "ok" and statuses[1]["lag_seconds"] < 1.0
    assert all(f["event_id"] is None for f in frames if f["type"] == "status" and f["data"]["kind"] == "audio")
    rows = await wait_for(lambda: _finals(company, meeting, len(turns)))
    assert [r["text"] for r in rows] == [t.text for t in turns]
    assert b"".join(fed) == pcm
    await comm.disconnect()


async def _finals(company, meeting, count):
    rows = [r for r in await audio_rows(company, meeting) if r["is_final"]]
    return rows if len(rows) >= count else None


# --- resends and reconnects --------------------------------------------------------------------


async def test_resent_chunks_are_acked_as_duplicates_and_never_fed_twice(meeting, admin, company, spoken, fake_model,
                                                                         fed):
    pcm, turns = spoken
    chunks = chunks_of(pcm)
    cut = int((turns[1].start + 0.8) * 10)  # in the middle of the second turn
    comm = await connect(meeting.pk, token=admin.token)
    await hello(comm, client_id="ext-1")
    await send_all(comm, chunks[:cut], as_json=True)
    await comm.send_json_to(audio_chunk(cut - 3, chunks[cut - 3]))  # a resend on the same connection
    ack = await receive_until(comm, lambda f: f["type"] == "ack")
    assert (ack["sequence"], ack["status"], ack["duplicate"]) == (cut - 3, "duplicate", True)
    await comm.disconnect()  # the utterance in progress is flushed into a final without the client

    comm = await connect(meeting.pk, token=admin.token)
    await hello(comm, client_id="ext-1")
    frames = await send_all(comm, chunks[cut - 5 :], first=cut - 5, as_json=True)  # resend the last 5, then on
    acks = [(f["sequence"], f["status"]) for f in frames if f["type"] == "ack"]
    assert acks[:6] == [(s, "duplicate") for s in range(cut - 5, cut)] + [(cut, "buffered")]
    assert all(status == "buffered" for _, status in acks[5:])
    await comm.disconnect()
    await audio_streams_wait_closed(60)
    assert b"".join(fed) == pcm
    rows = await audio_rows(company, meeting)
    assert all(r["is_final"] and r["source"] == "audio" for r in rows)
    # first connection: turn 1 and the first part of turn 2; second: the rest, numbered apart
    rows.sort(key=lambda r: r["start_time"])
    assert [(r["client_id"], r["client_sequence"]) for r in rows] == [("ext-1#a0", 0), ("ext-1#a0", 1),
                                                                      (f"ext-1#a{cut}", 0)]
    # The stream's clock is its audio: the second engine goes on where the first one stopped.
    stream_start = rows[0]["start_time"] - turns[0].start
    assert rows[1]["end_time"] == pytest.approx(stream_start + cut / 10, abs=0.4)
    assert rows[2]["start_time"] == pytest.approx(stream_start + cut / 10, abs=0.4)


# --- captions and audio together ------------------------------------------------------------


async def test_audio_corrects_the_caption_that_covers_it_and_keeps_its_speaker(meeting, admin, company, spoken,
                                                                               fake_model):
    pcm, turns = spoken
    started_at = await _db(company, lambda: Meeting.objects.get(pk=meeting.pk).started_at)
    captured = started_at + timedelta(minutes=5)  # the audio's first sample, on the client's clock
    anchor = (captured - started_at).total_seconds()
    second = turns[1]
    comm = await connect(meeting.pk, token=admin.token)
    await hello(comm, client_id="ext-1")
    # The platform's captions, with its own speaker names and its own mistakes.
    first_caption = "good morning everyone the proposal for the new customer is ready for review"
    await comm.send_json_to(caption_frame(1, first_caption, speaker="Alice Seller", start=anchor + turns[0].start + 0.2,
                                          end=anchor + turns[0].end + 0.3))
    # (too garbled for the analysis to find the action item in it)
    await comm.send_json_to(caption_frame(2, "eye will send the propose all bye fry day", speaker="Priya Buyer",
                                          start=anchor + second.start + 0.3, end=anchor + second.end + 0.4))
    frames: list[dict] = []
    for _ in range(2):
        await receive_until(comm, lambda f: f["type"] == "ack", collected=frames)
    caption_ids = [f["segment_id"] for f in frames if f["type"] == "ack"]
    frames += await send_all(comm, chunks_of(pcm), as_json=True,
                             timestamp=captured.timestamp() * 1000)
    action = await receive_until(comm, lambda f: f["type"] == "action_item", collected=frames, timeout=30)
    updates = [f["data"] for f in frames if f["type"] == "transcript" and f["data"]["update"]
               and f["data"]["segment_id"] in caption_ids]
    assert [(u["segment_id"], u["speaker"], u["text"]) for u in updates] == [
        (caption_ids[0], "Alice Seller", turns[0].text), (caption_ids[1], "Priya Buyer", second.text)]
    removed = [f["data"] for f in frames if f["type"] == "transcript" and f["data"]["removed"]]
    assert all(r["duplicate_of"] in caption_ids and r["client_id"] == "ext-1#a0" for r in removed)
    rows = await audio_rows(company, meeting)
    assert [(r["speaker_label"], r["text"], r["source"]) for r in rows] == [
        ("Alice Seller", turns[0].text, "caption"), ("Priya Buyer", second.text, "caption")]
    assert action["data"]["assignee_name"] == "Priya Buyer"
    items = await _db(company, lambda: list(ActionItem.objects.filter(meeting=meeting)
                                            .values_list("source_segment_id", flat=True)))
    assert items == [caption_ids[1]]
    await comm.disconnect()


async def test_audio_without_a_caption_nearby_is_a_line_of_its_own(meeting, admin, company, spoken, fake_model):
    pcm, turns = spoken
    started_at = await _db(company, lambda: Meeting.objects.get(pk=meeting.pk).started_at)
    comm = await connect(meeting.pk, token=admin.token)
    await hello(comm, client_id="ext-1", participant={"name": "Dana Seller"})
    await comm.send_json_to(caption_frame(1, "Something said much earlier.", speaker="Sam", start=10.0, end=12.0))
    await receive_until(comm, lambda f: f["type"] == "ack")
    await send_all(comm, chunks_of(pcm), as_json=True, speaker="You",
                   timestamp=(started_at + timedelta(minutes=10)).isoformat())
    rows = await wait_for(lambda: _finals(company, meeting, 3))
    assert [(r["speaker_label"], r["text"], r["source"]) for r in rows] == [
        ("Sam", "Something said much earlier.", "caption"), ("Dana Seller", turns[0].text, "audio"),
        ("Dana Seller", turns[1].text, "audio")]
    assert rows[1]["start_time"] == pytest.approx(600 + turns[0].start, abs=0.5)
    await comm.disconnect()


# --- ending, permissions, bad frames ----------------------------------------------------------


async def test_end_stores_buffered_audio_before_the_meeting_ends(meeting, admin, company, spoken, fake_model):
    pcm, turns = spoken
    comm = await connect(meeting.pk, token=admin.token)
    await hello(comm)
    speech_only = pcm[int(turns[0].start * 32000) & ~1 : int(turns[0].end * 32000) & ~1]  # no pause to end it
    await send_all(comm, chunks_of(speech_only))
    await comm.send_json_to({"type": "end"})
    await receive_until(comm, lambda f: f["type"] == "status" and f["data"]["meeting_status"] == "ended")
    rows = await audio_rows(company, meeting)
    assert [(r["text"], r["is_final"], r["source"]) for r in rows] == [(turns[0].text, True, "audio")]
    await comm.send_to(bytes_data=binary(999, speech_only[:3200]))
    error = await receive_until(comm, lambda f: f["type"] == "error")
    assert (error["code"], error["sequence"]) == ("meeting_ended", 999)
    await comm.disconnect()


async def test_members_may_not_send_audio(meeting, member, company):
    comm = await connect(meeting.pk, token=member.token)
    await hello(comm)
    await comm.send_to(bytes_data=binary(1, b"\x00\x00" * 800))
    error = await receive(comm)
    assert (error["type"], error["code"], error["sequence"]) == ("error", "forbidden", 1)
    await comm.send_json_to(audio_chunk(2, b"\x00\x00" * 800))
    assert (await receive(comm))["code"] == "forbidden"
    assert await audio_rows(company, meeting) == []
    await comm.disconnect()


async def test_bad_audio_gets_error_frames_and_the_connection_stays_open(meeting, admin, company, settings, fed):
    settings.LIVE_MAX_FRAME_BYTES = 4096
    comm = await connect(meeting.pk, token=admin.token)
    await hello(comm)

    async def error_for(*, data=None, frame=None):
        if data is not None:
            await comm.send_to(bytes_data=data)
        else:
            await comm.send_to(text_data=json.dumps(frame))
        error = await receive_until(comm, lambda f: f["type"] in ("error", "ack"))
        ErrorOut.model_validate(error)
        return error["code"], error["sequence"]

    assert await error_for(data=binary(1, b"\x00\x00\x00")) == ("invalid_audio", 1)  # odd byte count
    assert await error_for(data=binary(2, b"")) == ("invalid_audio", 2)  # header only
    assert await error_for(data=b"\x00\x01") == ("unsupported_frame", None)  # not even a header
    assert await error_for(data=binary(3, b"\x00" * 4096)) == ("frame_too_large", 3)
    assert await error_for(frame={"type": "audio_chunk", "sequence": 4, "data": "not base64!"}) == ("invalid_audio", 4)
    assert await error_for(frame=audio_chunk(5, b"\x00")) == ("invalid_audio", 5)
    assert (await error_for(frame={"type": "audio_chunk", "sequence": 2**32, "data": "AAA="}))[0] == "invalid_message"
    assert (await error_for(frame={"type": "audio_chunk", "sequence": 6}))[0] == "invalid_message"
    await comm.send_json_to({"type": "ping", "nonce": 1})
    assert (await receive_until(comm, lambda f: f["type"] == "pong"))["nonce"] == 1
    assert fed == [] and await audio_rows(company, meeting) == []
    await comm.disconnect()

    legacy = await connect(meeting.pk, token=admin.token, query="format=legacy")
    await legacy.send_to(bytes_data=binary(1, b"\x00\x00"))
    frame = await receive(legacy)
    assert frame["type"] == "ERROR" and frame["data"]["code"] == "unsupported_frame"
    await legacy.disconnect()


@pytest.fixture
def scheduled(company):
    return meeting_make(company=company, status=Meeting.Status.SCHEDULED, language="en")


async def test_a_scheduled_meeting_starts_with_its_first_audio(scheduled, company, admin, spoken, fake_model):
    meeting = scheduled
    pcm, _ = spoken
    comm = await connect(meeting.pk, token=admin.token)
    await hello(comm)
    await send_all(comm, chunks_of(pcm[:32000]))
    status = await _db(company, lambda: Meeting.objects.get(pk=meeting.pk))
    assert status.status == Meeting.Status.ACTIVE
    assert status.started_at <= timezone.now()
    await comm.disconnect()


# --- the storing rules, without a socket ------------------------------------------------------------


async def test_utterances_covering_one_caption_are_joined_and_unrelated_audio_stays_apart(meeting, company):
    def run():
        m = Meeting.objects.get(pk=meeting.pk)
        caption_ingest(company=company, meeting=m, client_id="ext-1",
                       caption=caption(1, "we will ship on monday and then review on tuesday", speaker="Sam",
                                       start=100.0, end=106.0))
        merges = OrderedDict()
        common = {"company": company, "meeting": m, "client_id": "ext-1#a0", "merges": merges}
        first = audio_final_store(utterance=0, text="We will ship on Monday,", start=100.2, end=102.5, **common)
        second = audio_final_store(utterance=1, text="and then review on Tuesday.", start=103.0, end=105.8, **common)
        other = audio_final_store(utterance=2, text="Completely unrelated words here.", start=104.0, end=105.0,
                                  **common)
        return first, second, other

    first, second, other = await _db(company, run)
    assert (first.status, second.status) == ("merged", "merged") and first.segment_id == second.segment_id
    assert other.status == "stored"
    rows = await audio_rows(company, meeting)
    assert [(r["speaker_label"], r["text"], r["source"]) for r in rows] == [
        ("Sam", "We will ship on Monday, and then review on Tuesday.", "caption"),
        ("", "Completely unrelated words here.", "audio")]


async def test_an_interim_left_by_an_empty_utterance_is_withdrawn(meeting, company):
    def run():
        m = Meeting.objects.get(pk=meeting.pk)
        common = {"company": company, "meeting": m, "client_id": "ext-1#a0", "utterance": 0}
        audio_interim_store(text="mumble", at=50.0, **common)  # that utterance came out empty: no final
        return audio_final_store(text="The next utterance.", start=53.0, end=55.0, **common)

    result = await _db(company, run)
    assert result.status == "stored"
    rows = await audio_rows(company, meeting)
    assert [(r["text"], r["is_final"], r["start_time"]) for r in rows] == [("The next utterance.", True, 53.0)]
    kinds = await _db(company, lambda: [(e.payload["text"], e.payload["removed"]) for e in
                                        meeting.events.order_by("event_id")])
    assert kinds == [("mumble", False), ("mumble", True), ("The next utterance.", False)]
