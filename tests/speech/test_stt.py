"""Speech-to-text: the local engine on real (generated) speech, remote engines against fake servers, fallback."""

from __future__ import annotations

import numpy as np
import pytest

from integrations.speech import SpeechProviderError, deepgram
from meetings.speech import SAMPLE_RATE, metrics, stt, whisper
from meetings.speech import audio as audio_io
from tests.speech import synth
from tests.speech.fakes import wav_seconds


@pytest.fixture
def short_audio(short_two):
    files, turns = short_two
    return audio_io.decode(files["wav"]), turns


def test_local_transcription_word_error_rate(whisper_model, short_audio):
    samples, turns = short_audio
    result = stt.transcribe_detailed(samples, word_timestamps=True)
    assert result.provider == "local"
    assert result.language == "en"  # detected
    hypothesis = " ".join(s.text for s in result.segments)
    assert metrics.word_error_rate(synth.reference_text(turns), hypothesis) <= 0.25, hypothesis
    assert result.segments[0].words and all(w.end >= w.start for w in result.segments[0].words)
    assert all(0 < s.confidence <= 1 for s in result.segments)
    assert result.segments[-1].end <= samples.size / SAMPLE_RATE + 0.5


def test_short_clip_pass_transcribes_utterances(whisper_model, short_audio):
    samples, turns = short_audio
    errors = []
    for index, turn in enumerate(turns):
        clip = samples[int(turn.start * SAMPLE_RATE) : int((turn.end + 0.2) * SAMPLE_RATE)]
        fast, language = whisper.transcribe_short(clip, language=None if index == 0 else "en")
        assert language == "en"
        assert fast[0].end == pytest.approx(clip.size / SAMPLE_RATE)
        errors.append(metrics.word_error_rate(turn.text, fast[0].text))
    assert sum(errors) / len(errors) <= 0.3, errors


def test_silence_never_reaches_the_model(monkeypatch):
    def boom(*args, **kwargs):
        raise AssertionError("the model ran on silence")

    monkeypatch.setattr(whisper, "transcribe", boom)
    monkeypatch.setattr(whisper, "transcribe_short", boom)
    result = stt.transcribe_detailed(np.zeros(5 * SAMPLE_RATE, dtype=np.float32))
    assert result.segments == [] and result.provider == "silence-gate"


def test_openai_compatible_provider_through_the_sdk(settings, fake_speech, short_audio):
    samples, _ = short_audio
    settings.STT_PROVIDER = "openai"
    settings.STT_BASE_URL = fake_speech.base_url + "/v1"
    settings.STT_API_KEY = "sk-test"
    settings.STT_MODEL = "whisper-large-v3"
    result = stt.transcribe_detailed(samples, language="en-US")
    assert result.provider == "openai"
    assert result.language == "en"
    assert [s.text for s in result.segments] == ["Hello from the fake server.", "Second sentence here."]
    assert [w.text for w in result.segments[0].words] == ["Hello", "from", "the", "fake", "server."]
    assert result.segments[0].confidence == pytest.approx(np.exp(-0.2), abs=1e-3)
    request = fake_speech.requests[-1]
    assert request["path"] == "/v1/audio/transcriptions"
    assert request["headers"]["Authorization"] == "Bearer sk-test"
    form = request["form"]
    assert form["model"] == "whisper-large-v3" and form["language"] == "en"
    assert form["response_format"] == "verbose_json"
    filename, wav = form["file"]
    assert filename == "audio.wav"
    assert wav_seconds(wav) == pytest.approx(samples.size / SAMPLE_RATE, abs=0.01)


def test_remote_audio_is_cut_into_pieces_at_pauses(settings, fake_speech, two_speakers):
    files, turns = two_speakers
    samples = audio_io.decode(files["wav"])
    settings.STT_PROVIDER = "openai"
    settings.STT_BASE_URL = fake_speech.base_url + "/v1"
    settings.STT_REMOTE_CHUNK_SECONDS = 8
    pieces = stt.split_for_requests(samples, max_seconds=8)
    assert len(pieces) >= 3 and all(p.size <= 8 * SAMPLE_RATE for _, p in pieces)
    assert sum(p.size for _, p in pieces) == samples.size
    segments = stt.transcribe(samples)
    assert len(fake_speech.requests) == len(pieces)
    # Each piece's segments are shifted by the piece's offset.
    assert segments[2].start == pytest.approx(pieces[1][0], abs=1e-6)


def test_provider_failure_falls_back_to_local(settings, fake_speech, whisper_model, short_audio):
    samples, turns = short_audio
    fake_speech.status = 500
    settings.STT_PROVIDER = "openai"
    settings.STT_BASE_URL = fake_speech.base_url + "/v1"
    result = stt.transcribe_detailed(samples, language="en")
    assert result.provider == "local"
    assert "openai failed" in result.fallback_reason
    assert len(fake_speech.requests) >= 1
    assert metrics.word_error_rate(synth.reference_text(turns), " ".join(s.text for s in result.segments)) < 0.3


def test_deepgram_prerecorded(settings, fake_speech, short_audio):
    samples, _ = short_audio
    settings.STT_PROVIDER = "deepgram"
    settings.DEEPGRAM_BASE_URL = fake_speech.base_url
    settings.DEEPGRAM_API_KEY = "dg-key"
    result = stt.transcribe_detailed(samples)
    assert result.provider == "deepgram" and result.language == "en"
    assert [s.text for s in result.segments] == ["Hi there.", "General Kenobi."]
    assert [w.text for w in result.segments[1].words] == ["General", "Kenobi."]
    request = fake_speech.requests[-1]
    assert request["path"].startswith("/v1/listen?")
    assert "detect_language=true" in request["path"] and "model=nova-2" in request["path"]
    assert request["headers"]["Authorization"] == "Token dg-key"
    assert wav_seconds(request["body"]) == pytest.approx(samples.size / SAMPLE_RATE, abs=0.01)


def test_deepgram_http_error_is_a_provider_error(fake_speech):
    fake_speech.status = 401
    with pytest.raises(SpeechProviderError, match="HTTP 401"):
        deepgram.transcribe(b"RIFF", api_key="bad", base_url=fake_speech.base_url, model="nova-2", max_retries=0)
