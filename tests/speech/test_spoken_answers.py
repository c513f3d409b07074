"""Spoken answers: an ``ask`` from a client that listed "tts" gets its text answer first, then the
same answer again with an ``audio_url`` that streams the stored voice to members of the company only."""

from __future__ import annotations

import shutil
from types import SimpleNamespace

import pytest
from asgiref.sync import sync_to_async

from accounts.tenancy import tenant_scope
from meetings.live.pipeline import runners_wait_idle
from meetings.live.render import html_fragment, legacy_frame
from meetings.models import Meeting, Suggestion
from meetings.speech import tts
from tests.meetings.factories import meeting_make
from tests.meetings.live_helpers import close_thread_connections, communicator, drain, hello, receive_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio,
              pytest.mark.skipif(not tts.local_available(), reason="espeak-ng is not installed")]

QUESTION = "What is our refund policy?"


@pytest.fixture(autouse=True)
async def _settle():
    yield
    await sync_to_async(runners_wait_idle, thread_sensitive=False)(timeout=20)
    await close_thread_connections()


@pytest.fixture
def live(settings, media_root, monkeypatch, company):
    settings.LIVE_ANALYSIS_MODE = "inline"
    settings.TTS_ANSWERS = True
    settings.TTS_PROVIDER = "local"
    # No ffmpeg for the voice: espeak-ng's own WAV, and no encoder start-up in the test.
    monkeypatch.setattr(tts, "shutil", SimpleNamespace(which=lambda name: None if name == "ffmpeg"
                                                       else shutil.which(name)))
    return meeting_make(company=company, status=Meeting.Status.ACTIVE, title="Acme sync")


def _answer(frame, ask_id, *, audio):
    return frame["type"] == "answer" and frame["data"]["ask_id"] == ask_id and bool(frame["data"]["audio_url"]) is audio


async def _ask(meeting, actor, ask_id, *, capabilities):
    comm = communicator(meeting.pk, token=actor.token)
    assert (await comm.connect(timeout=10))[0]
    await hello(comm, client_id="ext-tts", capabilities=capabilities)
    await comm.send_json_to({"type": "ask", "id": ask_id, "question": QUESTION})
    return comm


def _stored(company, suggestion_id):
    with tenant_scope(company):
        return Suggestion.objects.get(pk=suggestion_id)


async def test_ask_gets_text_then_audio_that_only_the_company_can_fetch(live, company, member, outsider):
    comm = await _ask(live, member, "q-1", capabilities=["captions", "tts"])
    frames: list[dict] = []
    text = await receive_until(comm, lambda f: _answer(f, "q-1", audio=False), collected=frames)
    spoken = await receive_until(comm, lambda f: _answer(f, "q-1", audio=True), timeout=20, collected=frames)
    await comm.disconnect()

    # the text answer went out first, on its own; the audio follows as an update of the same answer
    assert text["data"]["answer"] and text["data"]["audio_url"] is None
    assert spoken["data"]["id"] == text["data"]["id"] and spoken["event_id"] > text["event_id"]
    assert spoken["data"]["answer"] == text["data"]["answer"]
    url = spoken["data"]["audio_url"]
    assert url == f"/api/v1/meetings/{live.pk}/suggestions/{text['data']['id']}/audio"
    stored = await sync_to_async(_stored)(company, text["data"]["id"])
    assert stored.audio_url == url

    def fetch(actor):
        response = actor.api().get(url)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        return response.status_code, response.get("Content-Type"), body

    status, content_type, body = await sync_to_async(fetch)(member)
    assert status == 200 and content_type == "audio/wav"
    assert body[:4] == b"RIFF" and body[8:12] == b"WAVE" and len(body) > 8000
    assert (await sync_to_async(fetch)(outsider))[0] == 404  # another company's meeting: not found

    # clients that cannot play it: the old dialect ignores the repeat, the dashboard replaces its card
    assert legacy_frame(spoken) is None and legacy_frame(text)["type"] == "AI_RESPONSE"
    html = await sync_to_async(html_fragment)(spoken, company_id=company.pk)
    assert f'id="suggestion-{text["data"]["id"]}"' in html and 'hx-swap-oob="true"' in html


async def test_speech_failure_still_delivers_the_text_answer(live, company, member, monkeypatch):
    def broken(text, **kwargs):
        raise RuntimeError("voice engine crashed")

    monkeypatch.setattr(tts, "synthesize_audio", broken)
    comm = await _ask(live, member, "q-2", capabilities=["tts"])
    text = await receive_until(comm, lambda f: f["type"] == "answer")
    assert text["data"]["ask_id"] == "q-2" and text["data"]["answer"] and text["data"]["audio_url"] is None
    assert not [f for f in await drain(comm, quiet=0.5) if f["type"] == "answer"]
    await comm.disconnect()
    assert (await sync_to_async(_stored)(company, text["data"]["id"])).audio_url == ""

    def fetch():
        return member.api().get(f"/api/v1/meetings/{live.pk}/suggestions/{text['data']['id']}/audio")

    response = await sync_to_async(fetch)()
    assert response.status_code == 404 and response.json()["code"] == "no_audio"


@pytest.mark.parametrize("capabilities, enabled", [(["captions"], True), (["tts"], False)])
async def test_no_voice_unless_a_client_asked_for_it_and_it_is_on(live, settings, member, monkeypatch,
                                                                 capabilities, enabled):
    settings.TTS_ANSWERS = enabled
    calls = []
    monkeypatch.setattr(tts, "synthesize_audio", lambda text, **kwargs: calls.append(text))
    comm = await _ask(live, member, "q-3", capabilities=capabilities)
    text = await receive_until(comm, lambda f: f["type"] == "answer")
    assert text["data"]["audio_url"] is None
    assert not [f for f in await drain(comm, quiet=0.3) if f["type"] == "answer"]
    await comm.disconnect()
    assert calls == []


@pytest.mark.asyncio(loop_scope="function")
async def test_a_suggestion_for_a_customer_question_is_spoken_too(live, company, monkeypatch):
    from meetings.live import pipeline
    from meetings.models import MeetingEvent
    from tests.knowledge.factories import document_ingested
    from tests.meetings.factories import segment_make

    def scenario():
        document_ingested(company=company, title="Refunds", text="Our refund policy: full refund within 30 days.")
        segment = segment_make(meeting=live, speaker_label="Customer", text=QUESTION)
        monkeypatch.setattr(pipeline, "tts_wanted", lambda meeting_id: True)
        suggestion = pipeline.suggestion_answer(company_id=company.pk, meeting_id=live.pk, segment_id=segment.pk,
                                                question=QUESTION)
        with tenant_scope(company):
            events = list(MeetingEvent.objects.filter(meeting=live, type="suggestion").order_by("event_id"))
            return _stored(company, suggestion.pk), events

    stored, events = await sync_to_async(scenario, thread_sensitive=False)()
    assert stored.audio_url.endswith(f"/suggestions/{stored.pk}/audio")
    assert [bool(e.payload.get("audio_url")) for e in events] == [False, True]
