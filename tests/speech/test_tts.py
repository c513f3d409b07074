"""Spoken answers: local espeak-ng by default, remote engines through their clients, fallback."""

from __future__ import annotations

import pytest

from meetings.speech import audio as audio_io
from meetings.speech import tts

pytestmark = pytest.mark.skipif(not tts.local_available(), reason="espeak-ng is not installed")


def test_local_voice_makes_real_audio(settings):
    settings.TTS_PROVIDER = "local"
    spoken = tts.synthesize_audio("Revenue was eighteen point seven million dollars.")
    assert spoken.provider == "local" and spoken.extension == "mp3"
    samples = audio_io.decode_bytes(spoken.data, suffix=".mp3")
    assert 1.5 < samples.size / 16000 < 8


def test_off_and_empty(settings):
    settings.TTS_PROVIDER = "off"
    assert tts.synthesize("Hello") is None
    settings.TTS_PROVIDER = "local"
    assert tts.synthesize("   ") is None


def test_answer_audio_is_stored_and_has_a_url(settings, media_root):
    settings.TTS_PROVIDER = "local"
    url = tts.answer_audio_save(company_id=7, text="The deadline is Friday.")
    assert url.startswith(settings.MEDIA_URL + "tts/7/") and url.endswith(".mp3")
    stored = media_root / url.removeprefix(settings.MEDIA_URL)
    assert stored.stat().st_size > 1000


def test_openai_compatible_speech(settings, fake_speech):
    settings.TTS_PROVIDER = "openai"
    settings.TTS_BASE_URL = fake_speech.base_url + "/v1"
    settings.TTS_VOICE = "nova"
    spoken = tts.synthesize_audio("Hello there.")
    assert spoken.provider == "openai" and spoken.data == fake_speech.speech_audio
    request = fake_speech.requests[-1]
    assert request["path"] == "/v1/audio/speech"
    assert request["json"]["input"] == "Hello there." and request["json"]["voice"] == "nova"


def test_elevenlabs_speech(settings, fake_speech):
    settings.TTS_PROVIDER = "elevenlabs"
    settings.ELEVENLABS_BASE_URL = fake_speech.base_url
    settings.ELEVENLABS_API_KEY = "xi-key"
    settings.ELEVENLABS_VOICE_ID = "voice123"
    spoken = tts.synthesize_audio("Hello there.")
    assert spoken.provider == "elevenlabs"
    request = fake_speech.requests[-1]
    assert request["path"].startswith("/v1/text-to-speech/voice123")
    assert request["headers"]["xi-api-key"] == "xi-key" and request["json"]["text"] == "Hello there."


def test_remote_failure_falls_back_to_the_local_voice(settings, fake_speech):
    fake_speech.status = 503
    settings.TTS_PROVIDER = "elevenlabs"
    settings.ELEVENLABS_BASE_URL = fake_speech.base_url
    spoken = tts.synthesize_audio("Still spoken.")
    assert spoken.provider == "local" and len(fake_speech.requests) >= 1


def test_long_text_is_cut_at_a_sentence(settings):
    settings.TTS_MAX_CHARS = 40
    assert tts._clean("First sentence is here. Second sentence is much longer than that.") == \
        "First sentence is here."
