"""Live audio through Deepgram's real-time API, against a fake of it on 127.0.0.1 (tests/fakes/deepgram_live.py).

The fake reads where each socket's audio begins from the audio itself (a clock signal), so a
client that replays the wrong audio, or shifts times wrongly, gets wrong words back.
"""

from __future__ import annotations

import asyncio
import struct
import time

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async

from accounts.tenancy import tenant_scope
from meetings.live.audio import audio_streams_wait_closed
from meetings.live.pipeline import runners_wait_idle
from meetings.models import Meeting, Participant, TranscriptSegment
from meetings.speech import audio as audio_io
from meetings.speech import live_engines, metrics, streaming
from meetings.speech.streaming_deepgram import DeepgramLiveTranscriber
from meetpilot.metrics import PROVIDER_FALLBACKS
from tests.fakes.deepgram_live import FakeDeepgramLive, Said, clock_audio
from tests.meetings.factories import meeting_make
from tests.meetings.live_helpers import close_thread_connections
from tests.speech import synth
from tests.speech.test_ws_audio import collect, connect, hello

CHUNK = 3200  # 100 ms

# Six utterances, two voices. Context replayed after a drop at 10.5 s starts inside B1, so the
# new socket numbers Bob 0 and Alice 1: the opposite of the first socket.
SCRIPT = [
    Said("alice", "Good morning, the plan is ready.", 0.5, 2.0),
    Said("bob", "Thanks, I will review it this afternoon.", 2.6, 5.0),
    Said("alice", "Send notes by Friday.", 5.6, 7.0),
    Said("bob", "Sure, I can do that tomorrow.", 7.6, 9.2),
    Said("alice", "Then the budget goes to finance.", 9.8, 11.6),
    Said("bob", "Agreed, see you next week.", 12.2, 13.8),
]
LABELS = {"alice": "Speaker 1", "bob": "Speaker 2"}


def fallbacks() -> float:
    return PROVIDER_FALLBACKS.labels(feature="live_speech_to_text", provider="deepgram")._value.get()


@pytest.fixture
def deepgram_settings(settings):
    settings.STT_PROVIDER = "deepgram"
    settings.DEEPGRAM_API_KEY = "dg-live-key"
    return settings


def run_engine(url: str, audio: bytes, **options) -> tuple[list, list[str], DeepgramLiveTranscriber]:
    finals, interims = [], []
    engine = DeepgramLiveTranscriber(
        on_interim=interims.append, on_final=finals.append, url=url, language="en", **options
    )
    for start in range(0, len(audio), CHUNK):
        engine.feed(audio[start : start + CHUNK])
    engine.close(timeout=30)
    return finals, interims, engine


def expected_words(script) -> list[tuple[str, str]]:
    return [(LABELS[said.speaker], word) for said in script for word in said.text.split()]


def said_words(finals) -> list[tuple[str, str]]:
    return [(segment.speaker, word) for segment in finals for word in segment.text.split()]


def test_interim_then_final_results_with_stable_speaker_labels(deepgram_settings):
    server = FakeDeepgramLive(SCRIPT[:4])
    try:
        finals, interims, engine = run_engine(server.url, clock_audio(10.0))
    finally:
        server.stop()
    assert len(server.sockets) == 1
    socket = server.sockets[0]
    for part in (
        "model=nova-3",
        "interim_results=true",
        "diarize=true",
        "smart_format=true",
        "endpointing=700",
        "encoding=linear16",
        "sample_rate=16000",
        "channels=1",
        "language=en",
    ):
        assert part in socket.path, socket.path
    assert socket.authorization == "Token dg-live-key"
    assert socket.closed_by_client and socket.audio_bytes == len(clock_audio(10.0))
    assert [(s.speaker, s.text) for s in finals] == [(LABELS[said.speaker], said.text) for said in SCRIPT[:4]]
    for segment, said in zip(finals, SCRIPT, strict=False):
        assert segment.start == pytest.approx(said.start, abs=0.02)
        assert segment.end == pytest.approx(said.words()[-1][2], abs=0.02)
        assert segment.confidence == pytest.approx(0.97)
    # The fake sends an interim per new word: the growing utterance, before its final.
    assert "Good morning, the" in interims and "Thanks, I will review it this" in interims
    assert engine.fallback_reason is None and engine.status()["provider"] == "deepgram"


def test_a_dropped_socket_reconnects_and_replays_without_losing_or_repeating_words(deepgram_settings):
    server = FakeDeepgramLive(SCRIPT, drop_after_seconds=10.5)
    before = fallbacks()
    try:
        finals, _, engine = run_engine(server.url, clock_audio(14.5))
    finally:
        server.stop()
    assert len(server.sockets) == 2 and engine.client.reconnects == 1
    first, second = server.sockets
    assert first.offset == 0.0 and not first.closed_by_client
    # Resent from the last final's end (B2's, at 9.5 s) with 5 s of context before it.
    assert second.offset == pytest.approx(4.5, abs=0.011)
    assert second.audio_bytes == len(clock_audio(14.5)) - int(4.5 * 32000)
    assert second.closed_by_client
    # Every word once, in order, each voice under its label although the new socket numbered them the other way.
    assert said_words(finals) == expected_words(SCRIPT)
    second_numbers = {
        w["punctuated_word"]: w["speaker"]
        for m in second.sent
        if m["type"] == "Results"
        for w in m["channel"]["alternatives"][0]["words"]
    }
    assert second_numbers["budget"] == 1 and second_numbers["Agreed,"] == 0  # Alice 1, Bob 0 on the new socket
    assert [round(s.start, 1) for s in finals] == [said.start for said in SCRIPT]
    assert engine.fallback_reason is None and fallbacks() == before  # a reconnect is not a fallback


def test_a_socket_dropped_again_and_again_falls_back_to_the_local_engine(deepgram_settings):
    deepgram_settings.DEEPGRAM_STREAMING_MAX_ATTEMPTS = 3
    server = FakeDeepgramLive(SCRIPT, drop_after_seconds=0.05, drops=100)
    before = fallbacks()
    try:
        finals, _, engine = run_engine(server.url, clock_audio(3.0))
    finally:
        server.stop()
    assert len(server.sockets) == 3
    assert "socket lost 3 times" in engine.fallback_reason
    assert fallbacks() == before + 1
    assert engine.status()["provider"] == "local"
    assert engine.audio_seconds == pytest.approx(3.0)


@pytest.fixture(scope="module")
def spoken_pair(speech_dir):
    script = [
        ("alice", "Good morning everyone. The proposal for the new customer is ready for review."),
        ("bob", "Thanks. I will send the proposal by Friday."),
    ]
    files, turns = synth.meeting_files(speech_dir, "dg-fallback", script, gap=1.1)
    return audio_io.float_to_pcm16(audio_io.decode(files["wav"])), turns


def test_a_refused_connection_429_falls_back_to_the_local_engine(deepgram_settings, whisper_model, spoken_pair):
    pcm, turns = spoken_pair
    server = FakeDeepgramLive(SCRIPT, reject_status=429)
    before = fallbacks()
    try:
        finals, _, engine = run_engine(server.url, pcm)
    finally:
        server.stop()
    assert len(server.requests) == 1 and not server.sockets  # refused at once, not retried
    assert engine.fallback_reason == "deepgram streaming: HTTP 429 on connect"
    assert fallbacks() == before + 1
    assert len(finals) == len(turns)
    wer = metrics.word_error_rate(synth.reference_text(turns), " ".join(s.text for s in finals))
    assert wer < 0.35, [s.text for s in finals]
    for segment, turn in zip(finals, turns, strict=True):  # stream times, as from the local engine
        assert segment.start == pytest.approx(turn.start, abs=0.5)


def test_the_settings_choose_the_engine(settings):
    settings.STT_PROVIDER, settings.DEEPGRAM_API_KEY = "deepgram", ""
    engine = live_engines.live_transcriber(on_interim=print, on_final=print)
    assert isinstance(engine, streaming.LiveAudioTranscriber)  # no key: local
    engine.close()
    server = FakeDeepgramLive(SCRIPT[:1])
    settings.DEEPGRAM_API_KEY, settings.DEEPGRAM_STREAMING_URL = "k", server.url
    try:
        engine = live_engines.live_transcriber(on_interim=print, on_final=print)
        assert isinstance(engine, DeepgramLiveTranscriber)
        engine.close()
    finally:
        server.stop()


def test_a_server_start_loads_the_voice_model_its_live_engine_uses(settings, monkeypatch):
    from meetings.speech import vad

    loaded: list[str] = []
    monkeypatch.setattr(vad, "preload", lambda: loaded.append("vad"))
    for provider in ("local", "openai"):  # the local engine cuts utterances for both
        settings.STT_PROVIDER, settings.DEEPGRAM_API_KEY = provider, ""
        live_engines.live_audio_preload()
    assert loaded == ["vad", "vad"]
    settings.STT_PROVIDER, settings.DEEPGRAM_API_KEY = "deepgram", "k"  # Deepgram hears the audio itself
    live_engines.live_audio_preload()
    assert loaded == ["vad", "vad"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_live_audio_over_the_websocket_through_deepgram(deepgram_settings, company, admin):
    server = FakeDeepgramLive(SCRIPT)
    deepgram_settings.DEEPGRAM_STREAMING_URL = server.url
    meeting = await sync_to_async(meeting_make)(company=company, status=Meeting.Status.ACTIVE, title="Budget")
    audio = clock_audio(14.5)
    comm = await connect(meeting.pk, admin.token)
    await hello(comm, client_id="ext-dg")
    frames: list = []
    stop = asyncio.Event()
    reader = asyncio.create_task(collect(comm, frames, stop))
    try:
        for index, start in enumerate(range(0, len(audio), CHUNK)):
            await comm.send_to(bytes_data=struct.pack(">I", index) + audio[start : start + CHUNK])
            await asyncio.sleep(0.005)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            finals = [f["data"] for _, f in frames if f["type"] == "transcript" and f["data"]["is_final"]]
            if len(finals) >= len(SCRIPT) - 1:  # the last one comes on close
                break
            await asyncio.sleep(0.1)
        stop.set()
        await reader
        await comm.disconnect()
        assert await audio_streams_wait_closed(60)
    finally:
        server.stop()
    events = [f["data"] for _, f in frames if f["type"] == "transcript"]
    finals = [e for e in events if e["is_final"]]
    assert [(e["speaker"], e["text"]) for e in finals] == [(LABELS[s.speaker], s.text) for s in SCRIPT[: len(finals)]]
    assert any(not e["is_final"] for e in events)  # interims went out first

    def read():
        with tenant_scope(company):
            rows = list(
                TranscriptSegment.objects.filter(meeting=meeting)
                .order_by("start_time")
                .values_list("speaker_label", "text", "is_final", "source", "start_time")
            )
            people = set(Participant.objects.filter(meeting=meeting).values_list("name", flat=True))
            return rows, people

    rows, people = await database_sync_to_async(read, thread_sensitive=False)()
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [(LABELS[s.speaker], s.text, True, "audio") for s in SCRIPT]
    assert people >= {"Speaker 1", "Speaker 2"}
    # Placed in the meeting as spoken: the stream's anchor plus Deepgram's (shifted) word times.
    assert [round(r[4] - rows[0][4], 2) for r in rows] == [round(s.start - SCRIPT[0].start, 2) for s in SCRIPT]
    await sync_to_async(runners_wait_idle, thread_sensitive=False)(timeout=30)
    await close_thread_connections()
