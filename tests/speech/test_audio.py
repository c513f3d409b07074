"""Probe and decode: every accepted format, and a clear error for everything else."""

from __future__ import annotations

import numpy as np
import pytest

from meetings.speech import SAMPLE_RATE
from meetings.speech import audio as audio_io
from tests.speech import synth


@pytest.mark.parametrize("fmt,label", [("wav", "WAV"), ("mp3", "MP3"), ("m4a", "MP4/M4A"), ("webm", "WebM"),
                                       ("ogg", "Ogg"), ("flac", "FLAC")])
def test_accepted_formats_probe_and_decode_to_16k_mono(two_speakers, fmt, label):
    files, turns = two_speakers
    info = audio_io.probe(files[fmt])
    assert info.format_label == label
    expected = turns[-1].end
    assert info.duration == pytest.approx(expected, abs=1.0)
    samples = audio_io.decode(files[fmt], expected_duration=info.duration)
    assert samples.dtype == np.float32
    assert samples.size / SAMPLE_RATE == pytest.approx(info.duration, abs=0.2)
    assert 0.01 < float(np.abs(samples).max()) <= 1.0


def test_mp4_with_video_and_audio_is_accepted(two_speakers, tmp_path):
    files, _ = two_speakers
    target = tmp_path / "talk.mp4"
    synth.convert(files["wav"], target, "-f", "lavfi", "-i", "color=c=black:s=64x64:d=3", "-shortest", "-c:a",
                  "aac")
    info = audio_io.probe(target)
    assert info.format_label == "MP4/M4A"
    assert audio_io.decode(target).size > SAMPLE_RATE


def test_empty_file(tmp_path):
    path = tmp_path / "empty.mp3"
    path.write_bytes(b"")
    with pytest.raises(audio_io.AudioError) as caught:
        audio_io.probe(path)
    assert caught.value.code == "empty"


def test_corrupt_file_is_unreadable(tmp_path):
    path = tmp_path / "noise.mp3"
    path.write_bytes(np.random.default_rng(1).bytes(20000))
    with pytest.raises(audio_io.AudioError) as caught:
        audio_io.probe(path)
    assert caught.value.code in ("unreadable", "unsupported_format")


@pytest.mark.parametrize("name,content", [
    ("notes.txt", b"Just some text, not audio at all.\n" * 20),
    ("picture.png", bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                                  "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")),
])
def test_wrong_type_is_refused(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(audio_io.AudioError) as caught:
        audio_io.probe(path)
    assert caught.value.code in ("unreadable", "unsupported_format", "no_audio")


def test_truncated_wav_fails_decode_with_truncated(two_speakers, tmp_path):
    files, _ = two_speakers
    data = files["wav"].read_bytes()
    path = tmp_path / "cut.wav"
    path.write_bytes(data[: len(data) // 3])  # the header still promises the full length
    info = audio_io.probe(path)
    with pytest.raises(audio_io.AudioError) as caught:
        audio_io.decode(path, expected_duration=info.duration)
    assert caught.value.code == "truncated"
    assert "truncated" in caught.value.message


def test_pcm16_round_trip():
    tone = (0.5 * np.sin(np.linspace(0, 100, 1600))).astype(np.float32)
    back = audio_io.pcm16_to_float(audio_io.float_to_pcm16(tone))
    assert np.allclose(back, tone, atol=1e-4)
    assert audio_io.rms_dbfs(np.zeros(100, dtype=np.float32)) < -100
