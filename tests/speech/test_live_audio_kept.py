"""Live audio kept for a re-separation after the meeting (company setting ``keep_live_audio``), live
voices named after enrolled members, and the Voices page in the navigation."""

from __future__ import annotations

import asyncio
import struct
import time
import wave
from datetime import timedelta

import numpy as np
import pytest
from asgiref.sync import sync_to_async
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from accounts.tenancy import tenant_scope
from meetings.intelligence import pipeline
from meetings.lifecycle import meeting_purge, retention_apply
from meetings.live.audio import audio_streams_wait_closed
from meetings.live.pipeline import runners_wait_idle
from meetings.models import Meeting, TranscriptSegment
from meetings.speech import audio as audio_io
from meetings.speech import kept_audio
from meetings.voices.models import SpeakerVoice
from tests.fakes.deepgram_live import FakeDeepgramLive, Said, clock_audio
from tests.meetings.factories import meeting_make
from tests.meetings.live_helpers import close_thread_connections
from tests.speech import synth
from tests.speech.test_live_speakers import VOICES
from tests.speech.test_voices import ANN, SAMPLE_TEXT, _enrol
from tests.speech.test_ws_audio import collect, connect, hello

pytestmark = [pytest.mark.django_db(transaction=True)]
CHUNK = 3200
# 36 s, so the whole recording has enough of each voice (a 23 s one split the faster voice in two).
SCRIPT = [
    ("ann", "Good morning. Let us look at the release plan for the mobile app."),
    ("ben", "The store review takes about a week, so we should submit on Monday."),
    ("ann", "Fine. Who writes the release notes this time?"),
    ("ben", "I can write them tomorrow and share them with the team."),
    ("ann", "Good. We also need new screenshots for the store page, because the design changed last month."),
    ("ben", "The designer sent them on Friday. I will check the sizes and upload them."),
    ("ann", "Thank you. Then we are done for today."),
]


@pytest.fixture(scope="module")
def two_voices(speech_dir):
    files, turns = synth.meeting_files(speech_dir, "live-kept", SCRIPT, gap=1.1, voices=VOICES)
    return audio_io.float_to_pcm16(audio_io.decode(files["wav"])), turns


@pytest.fixture(scope="module")
def ann_recording(speech_dir):
    """Ann's enrolment recording: another text than the meeting's, the same voice."""
    path = speech_dir / "ann-enrol.wav"
    if not path.exists():
        synth.write_wav(path, synth._espeak(ANN, SAMPLE_TEXT))
    return path


def keep_live_audio(company, on: bool) -> None:
    company.settings = {**company.settings, "keep_live_audio": on}
    company.save(update_fields=["settings"])


def stored_seconds(company_id: int, meeting_id: int) -> float:
    total = 0.0
    for key in kept_audio.part_keys(company_id, meeting_id):
        with default_storage.open(key, "rb") as handle, wave.open(handle) as wav:
            total += wav.getnframes() / wav.getframerate()
    return total


async def stream(meeting, actor, pcm: bytes, *, finals_expected: int, client_id: str = "ext-live") -> list[dict]:
    """Send the audio as binary frames, wait for the finals, disconnect; every frame received."""
    comm = await connect(meeting.pk, actor.token)
    await hello(comm, client_id=client_id)
    frames: list = []
    stop = asyncio.Event()
    reader = asyncio.create_task(collect(comm, frames, stop))
    for index, start in enumerate(range(0, len(pcm), CHUNK)):
        await comm.send_to(bytes_data=struct.pack(">I", index) + pcm[start : start + CHUNK])
        await asyncio.sleep(0.005)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if sum(1 for _, f in frames if f["type"] == "transcript" and f["data"]["is_final"]) >= finals_expected:
            break
        await asyncio.sleep(0.2)
    stop.set()
    await reader
    await comm.disconnect()
    assert await audio_streams_wait_closed(120)
    await sync_to_async(runners_wait_idle, thread_sensitive=False)(timeout=30)
    return [f for _, f in frames]


@pytest.fixture
def deepgram_fake(settings):
    server = FakeDeepgramLive(
        [
            Said("ann", "Hello there, shall we start?", 0.5, 2.5),
            Said("ben", "Yes, the agenda is short today.", 3.2, 5.5),
        ]
    )
    settings.STT_PROVIDER, settings.DEEPGRAM_API_KEY, settings.DEEPGRAM_STREAMING_URL = "deepgram", "k", server.url
    yield server
    server.stop()


@pytest.mark.asyncio
@pytest.mark.parametrize("keep", [True, False])
async def test_live_audio_is_stored_only_when_the_company_keeps_it(keep, deepgram_fake, media_root, company, admin):
    await sync_to_async(keep_live_audio)(company, keep)
    meeting = await sync_to_async(meeting_make)(company=company, status=Meeting.Status.ACTIVE, title="Agenda")
    audio = clock_audio(25.0)  # two and a half parts of 10 s
    await stream(meeting, admin, audio, finals_expected=2)
    keys = await sync_to_async(kept_audio.part_keys)(company.pk, meeting.pk)
    if not keep:
        assert keys == [] and not (media_root / "live_audio").exists()
        await close_thread_connections()
        return
    assert len(keys) == 3 and all(key.startswith(f"live_audio/{company.pk}/{meeting.pk}/") for key in keys)
    assert await sync_to_async(stored_seconds)(company.pk, meeting.pk) == pytest.approx(25.0)
    timeline = await sync_to_async(kept_audio.timeline)(company.pk, meeting.pk)
    # The parts lie end to end, nothing lost or moved (PCM16 back from the float timeline).
    assert np.round(timeline.audio * 32768).astype("<i2").tobytes() == audio and timeline.start >= 0

    def purge() -> None:
        with tenant_scope(company):
            meeting_purge(company=company, meeting=Meeting.objects.get(pk=meeting.pk))

    await sync_to_async(purge)()
    assert await sync_to_async(kept_audio.part_keys)(company.pk, meeting.pk) == []
    assert not (media_root / "live_audio" / str(company.pk) / str(meeting.pk)).exists()
    await close_thread_connections()


def test_retention_of_live_audio_deletes_kept_audio(media_root, company):
    meeting = meeting_make(company=company, status=Meeting.Status.ENDED, title="Old")
    keeper = kept_audio.LiveAudioKeeper(company_id=company.pk, meeting_id=meeting.pk, stream="ext#a0")
    for key, data in keeper.add(clock_audio(10.0)) + keeper.rest():
        kept_audio.part_store(key, data)
    assert len(kept_audio.part_keys(company.pk, meeting.pk)) == 1
    company.settings = {**company.settings, "retention": {"live_audio": 1}}
    company.save(update_fields=["settings"])
    with tenant_scope(company):
        Meeting.objects.filter(pk=meeting.pk).update(ended_at=timezone.now() - timedelta(days=3))
        result = retention_apply(company=company)
    assert result["live_audio"]["files"] == 1
    assert kept_audio.part_keys(company.pk, meeting.pk) == []


@pytest.mark.asyncio
async def test_the_after_meeting_run_separates_kept_audio_again_and_keeps_names(
    whisper_model, media_root, company, admin, two_voices
):
    pcm, turns = two_voices
    await sync_to_async(keep_live_audio)(company, True)
    meeting = await sync_to_async(meeting_make)(company=company, status=Meeting.Status.ACTIVE, title="Release plan")
    await stream(meeting, admin, pcm, finals_expected=len(turns))
    assert await sync_to_async(stored_seconds)(company.pk, meeting.pk) == pytest.approx(len(pcm) / 32000, abs=0.01)

    def rows():
        with tenant_scope(company):
            return list(TranscriptSegment.objects.filter(meeting=meeting, is_final=True).order_by("start_time"))

    def after_meeting() -> dict:
        with tenant_scope(company):
            stored = rows()
            assert len(stored) == len(turns), [s.text for s in stored]
            # As if the live labels had merged the two voices, and someone named the last speaker.
            TranscriptSegment.objects.filter(pk__in=[s.pk for s in stored]).update(speaker_label="Speaker 1")
            TranscriptSegment.objects.filter(pk=stored[-1].pk).update(speaker_label="Dana")
            m = Meeting.objects.get(pk=meeting.pk)
            pipeline.report_generate(company=company, meeting=m)
            return {
                "labels": [s.speaker_label for s in rows()],
                "voices": set(SpeakerVoice.objects.filter(meeting=meeting).values_list("speaker_label", flat=True)),
                "participants": {s.participant.name for s in rows()},
            }

    outcome = await sync_to_async(after_meeting)()
    labels = outcome["labels"]
    assert labels[-1] == "Dana"  # a name a person set is kept
    by_person: dict[str, set] = {}
    for label, turn in zip(labels[:-1], turns[:-1], strict=True):
        by_person.setdefault(turn.speaker, set()).add(label)
    assert all(len(found) == 1 for found in by_person.values()), by_person
    assert by_person["ann"] != by_person["ben"]  # the whole recording told the voices apart again
    # One voice keeps "Speaker 1" (the label all of its speech had), the other gets the next free label.
    assert by_person["ann"] | by_person["ben"] == {"Speaker 1", "Speaker 2"}
    assert outcome["voices"] == {"Speaker 1", "Speaker 2"}
    assert outcome["participants"] == {"Speaker 1", "Speaker 2"}
    await close_thread_connections()


@pytest.mark.asyncio
async def test_live_voices_are_named_after_enrolled_members(
    whisper_model, media_root, company, member, admin, ann_recording, two_voices
):
    pcm, turns = two_voices
    response = await sync_to_async(_enrol)(member, ann_recording)
    assert response.status_code == 201, response.content
    meeting = await sync_to_async(meeting_make)(company=company, status=Meeting.Status.ACTIVE, title="Release plan")
    frames = await stream(meeting, admin, pcm, finals_expected=len(turns))
    name = member.user.display_name
    finals = [f["data"] for f in frames if f["type"] == "transcript" and f["data"]["is_final"]]
    ann_finals = [f["speaker"] for f, t in zip(finals, turns, strict=True) if t.speaker == "ann"]
    assert name in ann_finals  # named live, once enough of the voice was heard

    def stored():
        with tenant_scope(company):
            segments = list(TranscriptSegment.objects.filter(meeting=meeting, is_final=True).order_by("start_time"))
            voices = {v.speaker_label: v for v in SpeakerVoice.objects.filter(meeting=meeting)}
            return [s.speaker_label for s in segments], voices

    labels, voices = await sync_to_async(stored)()
    for label, turn in zip(labels, turns, strict=True):  # earlier segments of the voice were renamed too
        assert (label == name) == (turn.speaker == "ann"), labels
    matched = [v for v in voices.values() if v.user_id == member.user.pk]
    assert len(matched) == 1 and matched[0].matched_by == "automatic" and matched[0].speech_seconds >= 4
    await close_thread_connections()


@pytest.mark.asyncio
async def test_no_live_naming_while_the_company_has_voices_off(
    whisper_model, media_root, company, member, admin, ann_recording, two_voices
):
    pcm, turns = two_voices
    assert (await sync_to_async(_enrol)(member, ann_recording)).status_code == 201

    def switch_off():
        company.settings = {**company.settings, "voice_identification": False}
        company.save(update_fields=["settings"])

    await sync_to_async(switch_off)()
    meeting = await sync_to_async(meeting_make)(company=company, status=Meeting.Status.ACTIVE, title="Release plan")
    frames = await stream(meeting, admin, pcm, finals_expected=len(turns))
    speakers = {f["data"]["speaker"] for f in frames if f["type"] == "transcript" and f["data"]["is_final"]}
    assert speakers == {"Speaker 1", "Speaker 2"}
    await close_thread_connections()


def test_company_settings_page_and_api_switch_keeping_live_audio(admin, company):
    client = admin.api()
    response = client.patch(
        "/api/v1/company", {"name": company.name, "keep_live_audio": True}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["settings"]["keep_live_audio"] is True
    response = client.patch(
        "/api/v1/company", {"name": company.name, "keep_live_audio": "maybe"}, content_type="application/json"
    )
    assert response.status_code in (400, 422) and response.json()
    web = admin_web_client(admin)
    page = web.get(reverse("accounts:settings"))
    assert 'name="keep_live_audio"' in page.content.decode() and "checked" in page.content.decode()
    web.post(reverse("accounts:settings"), {"name": company.name, "email_domain": ""})  # box left unticked
    company.refresh_from_db()
    assert company.settings["keep_live_audio"] is False


def admin_web_client(actor):
    from django.test import Client

    web = Client()
    web.force_login(actor.user)
    return web


def test_the_voices_page_is_in_the_navigation(admin):
    page = admin_web_client(admin).get(reverse("dashboard:home"))
    assert page.status_code == 200
    assert f'href="{reverse("voices:page")}"' in page.content.decode()
