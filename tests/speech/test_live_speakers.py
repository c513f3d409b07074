"""Live audio separated as it streams: stable speaker labels on the live engine's finals and in the
WebSocket's transcript events."""

from __future__ import annotations

import asyncio
import struct

import pytest
from asgiref.sync import sync_to_async

from meetings.live.audio import audio_streams_wait_closed
from meetings.live.pipeline import runners_wait_idle
from meetings.models import Meeting
from meetings.speech import audio as audio_io
from meetings.speech import streaming
from tests.meetings.factories import meeting_make
from tests.meetings.live_helpers import close_thread_connections
from tests.speech import synth
from tests.speech.test_ws_audio import collect, connect, hello

VOICES = {"ann": synth.Voice("en-us+f4", 72, 160), "ben": synth.Voice("en-gb+m3", 32, 150)}
SCRIPT = [
    ("ann", "Good morning. Let us look at the release plan for the mobile app."),
    ("ben", "The store review takes about a week, so we should submit on Monday."),
    ("ann", "Fine. Who writes the release notes this time?"),
    ("ben", "I can write them tomorrow and share them with the team."),
    ("ann", "Thank you. Then we are done for today."),
]
CHUNK = 3200


@pytest.fixture(scope="module")
def two_voices_live(speech_dir):
    files, turns = synth.meeting_files(speech_dir, "live-two", SCRIPT, gap=1.1, voices=VOICES)
    return audio_io.decode(files["wav"]), turns


def _stable(labels: list[str | None], turns) -> None:
    assert len(labels) == len(turns), labels
    by_person: dict[str, set] = {}
    for label, turn in zip(labels, turns, strict=True):
        by_person.setdefault(turn.speaker, set()).add(label)
    assert all(len(found) == 1 and None not in found for found in by_person.values()), by_person
    assert by_person["ann"] != by_person["ben"]
    assert labels[0] == "Speaker 1" and labels[1] == "Speaker 2"


def test_the_live_engine_labels_each_voice_the_same_way_throughout(whisper_model, two_voices_live):
    samples, turns = two_voices_live
    finals = []
    engine = streaming.LiveAudioTranscriber(on_interim=lambda text: None, on_final=finals.append, language="en")
    pcm = audio_io.float_to_pcm16(samples)
    for i in range(0, len(pcm), CHUNK):
        engine.feed(pcm[i : i + CHUNK])
    engine.close(timeout=120)
    _stable([f.speaker for f in finals], turns)
    assert engine.speakers.count == 2


def test_one_voice_keeps_one_live_label(whisper_model, two_voices_live):
    speakers = streaming.LiveSpeakers()
    samples, turns = two_voices_live
    labels = {speakers.assign(samples[int(t.start * 16000) : int(t.end * 16000)]) for t in turns if t.speaker == "ben"}
    assert labels == {"Speaker 1"}
    assert speakers.assign(samples[:4000]) == "Speaker 1"  # too short to tell: the last speaker


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_live_audio_from_two_voices_gets_two_stable_labels_over_the_websocket(whisper_model, company, admin,
                                                                                     two_voices_live):
    samples, turns = two_voices_live
    meeting = await sync_to_async(meeting_make)(company=company, status=Meeting.Status.ACTIVE, title="Release plan")
    pcm = audio_io.float_to_pcm16(samples)
    comm = await connect(meeting.pk, admin.token)
    await hello(comm, client_id="ext-live")
    frames: list = []
    stop = asyncio.Event()
    reader = asyncio.create_task(collect(comm, frames, stop))
    for index, start in enumerate(range(0, len(pcm), CHUNK)):
        await comm.send_to(bytes_data=struct.pack(">I", index) + pcm[start : start + CHUNK])
        await asyncio.sleep(0.005)
    deadline = asyncio.get_running_loop().time() + 120
    while asyncio.get_running_loop().time() < deadline:
        finals = [f["data"] for _, f in frames if f["type"] == "transcript" and f["data"]["is_final"]]
        if len(finals) >= len(turns):
            break
        await asyncio.sleep(0.2)
    stop.set()
    await reader
    finals = [f["data"] for _, f in frames if f["type"] == "transcript" and f["data"]["is_final"]]
    _stable([f["speaker"] for f in finals], turns)
    await comm.disconnect()
    await audio_streams_wait_closed(120)
    await sync_to_async(runners_wait_idle, thread_sensitive=False)(timeout=30)
    await close_thread_connections()
