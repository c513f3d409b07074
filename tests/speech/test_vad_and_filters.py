"""Voice activity detection, the silence gate and the hallucination filter."""

from __future__ import annotations

import numpy as np

from meetings.speech import SAMPLE_RATE, hallucination, vad
from meetings.speech import audio as audio_io
from meetings.speech.types import SttSegment


def test_speech_regions_follow_the_turns(two_speakers):
    files, turns = two_speakers
    samples = audio_io.decode(files["wav"])
    regions = vad.speech_regions(samples)
    assert len(regions) >= len(turns) - 1
    for turn in turns:  # every turn's middle is inside some region
        middle = (turn.start + turn.end) / 2
        assert any(r.start <= middle <= r.end for r in regions)
    assert vad.speech_seconds(regions) < samples.size / SAMPLE_RATE


def test_silence_has_no_regions_and_is_gated():
    silence = np.zeros(3 * SAMPLE_RATE, dtype=np.float32)
    assert vad.speech_regions(silence) == []
    assert vad.is_silent(silence)
    hiss = (np.random.default_rng(0).normal(0, 0.0005, 3 * SAMPLE_RATE)).astype(np.float32)
    assert vad.is_silent(hiss)


def test_streaming_vad_matches_file_vad(two_speakers):
    files, turns = two_speakers
    samples = audio_io.decode(files["wav"])
    stream = vad.StreamingVad()
    probabilities = []
    for i in range(0, samples.size, 700):  # odd chunk size: frames straddle chunks
        _, p = stream.push(samples[i : i + 700])
        probabilities.extend(p)
    probabilities = np.array(probabilities)
    times = np.arange(probabilities.size) * vad.FRAME_SAMPLES / SAMPLE_RATE
    inside = np.zeros_like(probabilities, dtype=bool)
    for turn in turns:
        inside |= (times > turn.start + 0.3) & (times < turn.end - 0.3)
    assert probabilities[inside].mean() > 0.7
    gaps = times < turns[0].start - 0.05
    assert probabilities[gaps].mean() < 0.3


def seg(text, **kw):
    return SttSegment(start=kw.pop("start", 0.0), end=kw.pop("end", 2.0), text=text, **kw)


def test_stock_phrases_are_dropped():
    for text in ("Thank you for watching!", "Subtitles by the Amara.org community", "Please subscribe."):
        assert hallucination.is_hallucination(seg(text, avg_logprob=-0.3, no_speech_prob=0.1)), text


def test_weak_phrases_are_dropped_only_when_the_model_was_unsure():
    assert not hallucination.is_hallucination(seg("Thank you.", avg_logprob=-0.2, no_speech_prob=0.05))
    assert hallucination.is_hallucination(seg("Thank you.", avg_logprob=-1.2, no_speech_prob=0.3))


def test_model_confidence_rules():
    assert hallucination.is_hallucination(seg("The budget is fine.", avg_logprob=-1.3, no_speech_prob=0.8))
    assert hallucination.is_hallucination(seg("The budget is fine.", avg_logprob=-2.0, no_speech_prob=0.1))
    assert not hallucination.is_hallucination(seg("The budget is fine.", avg_logprob=-0.4, no_speech_prob=0.3))


def test_repeated_ngrams_collapse():
    text = "We agreed. Thank you. Thank you. Thank you. Thank you. Thank you."
    assert hallucination.collapse_repeats(text) == "We agreed. Thank you."
    kept = hallucination.filter_segments([seg("the the the the the the", avg_logprob=-0.2),
                                          seg("Revenue grew twelve percent.", avg_logprob=-0.2)])
    assert [s.text for s in kept] == ["the", "Revenue grew twelve percent."]


def test_real_speech_is_kept():
    segments = [seg("Revenue grew twelve percent and the budget stayed flat.", avg_logprob=-0.35,
                    no_speech_prob=0.05, compression_ratio=1.3)]
    assert hallucination.filter_segments(segments) == segments


def test_a_sentence_looping_is_cut_back_to_one():
    loop = "Did the customer sign the contract yesterday? " * 4 + "Did the customer"
    assert hallucination.collapse_repeats(loop) == "Did the customer sign the contract yesterday?"
    # Real speech repeats short phrases; that stays.
    assert hallucination.collapse_repeats("I think, I think we should go.") == "I think, I think we should go."
