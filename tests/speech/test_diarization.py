"""Speaker separation and the metrics that judge it."""

from __future__ import annotations

import pytest

from meetings.speech import audio as audio_io
from meetings.speech import diarization, metrics
from meetings.speech.types import SttSegment, Word
from tests.speech import synth


def _reference(turns):
    return [(t.start, t.end, t.speaker) for t in turns]


def _hypothesis(speaker_turns):
    return [(t.start, t.end, str(t.speaker)) for t in speaker_turns]


@pytest.mark.parametrize("fixture,count", [("two_speakers", 2), ("three_speakers", 3)])
def test_speakers_found_automatically_with_low_der(request, fixture, count):
    files, turns = request.getfixturevalue(fixture)
    samples = audio_io.decode(files["wav"])
    found = diarization.diarize(samples)
    assert len({t.speaker for t in found}) == count
    assert found[0].speaker == 0  # numbered by first appearance
    assert metrics.diarization_error_rate(_reference(turns), _hypothesis(found)) <= 0.10


def test_one_voice_stays_one_speaker(speech_dir):
    script = [("bob", "Good morning everyone. Let's review the quarterly revenue numbers."),
              ("bob", "What about the hiring plan for the support team? We will hire three engineers.")]
    files, _ = synth.meeting_files(speech_dir, "one-bob", script)
    found = diarization.diarize(audio_io.decode(files["wav"]))
    assert {t.speaker for t in found} == {0}


def test_hint_fixes_the_count(three_speakers):
    files, turns = three_speakers
    samples = audio_io.decode(files["wav"])
    found = diarization.diarize(samples, num_speakers=2)
    assert len({t.speaker for t in found}) == 2


def test_segments_split_where_the_speaker_changes():
    words = tuple(Word(i * 0.5, i * 0.5 + 0.4, w) for i, w in enumerate(["one", "two", "three", "four", "five", "six"]))
    segment = SttSegment(start=0.0, end=3.0, text="one two three four five six", words=words)
    turns = [diarization.SpeakerTurn(0.0, 1.45, 4), diarization.SpeakerTurn(1.45, 3.0, 7)]
    out = diarization.assign_speakers([segment], turns)
    assert [(s.speaker, s.text) for s in out] == [("Speaker 1", "one two three"), ("Speaker 2", "four five six")]
    assert out[1].start == pytest.approx(1.5)


def test_a_single_stray_word_does_not_split_a_segment():
    words = tuple(Word(i * 0.5, i * 0.5 + 0.4, w) for i, w in enumerate(["a", "b", "c", "d", "e", "f"]))
    segment = SttSegment(start=0.0, end=3.0, text="a b c d e f", words=words)
    turns = [diarization.SpeakerTurn(0.0, 2.45, 0), diarization.SpeakerTurn(2.45, 2.9, 1),
             diarization.SpeakerTurn(2.9, 3.0, 0)]
    out = diarization.assign_speakers([segment], turns)
    assert len(out) == 1 and out[0].speaker == "Speaker 1"


def test_der_counts_confusion_miss_and_false_alarm_with_collar():
    reference = [(0.0, 10.0, "a"), (10.0, 20.0, "b")]
    assert metrics.diarization_error_rate(reference, [(0.0, 10.0, "x"), (10.0, 20.0, "y")]) == 0.0
    # Labels are mapped optimally: swapped names are not errors.
    assert metrics.diarization_error_rate(reference, [(0.0, 10.0, "y"), (10.0, 20.0, "x")]) == 0.0
    # Everything one speaker: half the speech is confused.
    assert metrics.diarization_error_rate(reference, [(0.0, 20.0, "x")]) == pytest.approx(0.5, abs=0.02)
    # A boundary 0.2 s late falls inside the collar; 1 s late does not.
    assert metrics.diarization_error_rate(reference, [(0.0, 10.2, "x"), (10.2, 20.0, "y")]) == 0.0
    assert metrics.diarization_error_rate(reference, [(0.0, 11.0, "x"), (11.0, 20.0, "y")]) > 0.03
    # Missing the second half entirely.
    assert metrics.diarization_error_rate(reference, [(0.0, 10.0, "x")]) == pytest.approx(0.5, abs=0.02)


def test_word_error_rate():
    assert metrics.word_error_rate("Revenue grew twelve percent.", "revenue grew 12%") == 0.0
    assert metrics.word_error_rate("a b c d", "a x c") == pytest.approx(0.5)
