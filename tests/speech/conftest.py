"""Speech test fixtures: generated meetings (cached for the session), the Whisper model, fake servers."""

from __future__ import annotations

import pytest

from tests.speech import synth
from tests.speech.fakes import FakeSpeechServer

SHORT_TWO = synth.TWO_SPEAKERS[:2]  # ~12 s: keeps end-to-end tests quick


@pytest.fixture(scope="session")
def speech_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("speech-audio")


@pytest.fixture(scope="session")
def two_speakers(speech_dir):
    """Two voices, four turns (~21 s), as wav/mp3/m4a/webm/ogg/flac, with the true turns."""
    return synth.meeting_files(speech_dir, "two", synth.TWO_SPEAKERS,
                               formats=("wav", "mp3", "m4a", "webm", "ogg", "flac"))


@pytest.fixture(scope="session")
def short_two(speech_dir):
    return synth.meeting_files(speech_dir, "short-two", SHORT_TWO, formats=("wav", "mp3"))


@pytest.fixture(scope="session")
def three_speakers(speech_dir):
    return synth.meeting_files(speech_dir, "three", synth.THREE_SPEAKERS)


@pytest.fixture(scope="session")
def whisper_model():
    """Load the model once for the whole session (about a second; later tests reuse it)."""
    from meetings.speech import whisper

    return whisper.get_model()


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


@pytest.fixture
def fake_speech():
    server = FakeSpeechServer().start()
    try:
        yield server
    finally:
        server.stop()
