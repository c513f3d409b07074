"""The live audio engine fed like a WebSocket consumer would, and the caption/audio merge rule."""

from __future__ import annotations

import asyncio
import threading
import time

import numpy as np
import pytest

from meetings.speech import audio as audio_io
from meetings.speech import metrics, streaming
from meetings.speech.types import SttSegment, Word
from tests.speech import synth


@pytest.fixture(scope="module")
def live_meeting(speech_dir):
    # Pauses longer than the 700 ms end-of-utterance silence, so each turn is one utterance.
    return synth.meeting_files(speech_dir, "live", synth.THREE_SPEAKERS[:4], gap=1.1)


def feed_all(engine, pcm, chunk_ms):
    step = int(16000 * chunk_ms / 1000) * 2
    for i in range(0, len(pcm), step):
        engine.feed(pcm[i : i + step])


@pytest.mark.parametrize("chunk_ms", [20, 100])
def test_streamed_audio_gives_one_final_per_utterance(whisper_model, live_meeting, chunk_ms):
    files, turns = live_meeting
    pcm = audio_io.float_to_pcm16(audio_io.decode(files["wav"]))
    finals, interims = [], []
    engine = streaming.LiveAudioTranscriber(on_interim=interims.append, on_final=finals.append)
    feed_all(engine, pcm, chunk_ms)
    assert engine.lag_seconds > 0  # fed faster than real time: the backlog is visible
    engine.close(timeout=120)
    assert len(finals) == len(turns)
    for final, turn in zip(finals, turns, strict=True):
        assert final.start == pytest.approx(turn.start, abs=0.5)
        assert final.end == pytest.approx(turn.end, abs=0.6)
        assert metrics.word_error_rate(turn.text, final.text) <= 0.35, final.text
    text = " ".join(f.text for f in finals)
    assert metrics.word_error_rate(synth.reference_text(turns), text) <= 0.2
    assert engine.lag_seconds == 0
    assert 0 < engine.compute_ratio < 0.7
    assert finals[0].language == "en" and engine.language == "en"
    assert engine.audio_seconds == pytest.approx(len(pcm) / 32000, abs=0.05)


def test_interims_while_speaking_in_real_time(whisper_model, live_meeting):
    files, turns = live_meeting
    samples = audio_io.decode(files["wav"])[: int((turns[0].end + 1.0) * 16000)]
    pcm = audio_io.float_to_pcm16(samples)
    events = []
    engine = streaming.LiveAudioTranscriber(language="en", on_interim=lambda t: events.append(("interim", t)),
                                            on_final=lambda s: events.append(("final", s)))
    started = time.perf_counter()
    step = 640 * 2  # 40 ms chunks at the speed of speech
    for i in range(0, len(pcm), step):
        engine.feed(pcm[i : i + step])
        delay = started + (i + step) / 32000 - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
    engine.close(timeout=30)
    kinds = [kind for kind, _ in events]
    assert kinds.count("final") == 1 and kinds[-1] == "final"
    assert kinds.count("interim") >= 1
    first_interim = next(text for kind, text in events if kind == "interim")
    assert first_interim.split()[0].lower().strip(",.") in turns[0].text.lower()


def test_silence_and_noise_give_nothing():
    calls = []

    def fake_transcribe(audio, *, language):
        calls.append(audio.size)
        return []

    finals = []
    engine = streaming.LiveAudioTranscriber(on_interim=finals.append, on_final=finals.append,
                                            transcribe=fake_transcribe)
    engine.feed(np.zeros(16000 * 3, dtype="<i2").tobytes())
    engine.feed((np.random.default_rng(0).normal(0, 30, 16000 * 2)).astype("<i2").tobytes())
    engine.close(timeout=10)
    assert finals == [] and calls == []


def test_odd_sized_chunks_and_flush(live_meeting):
    files, turns = live_meeting
    pcm = audio_io.float_to_pcm16(audio_io.decode(files["wav"])[: int(turns[0].end * 16000)])
    seen = []

    def fake_transcribe(audio, *, language):
        seen.append(audio.size / 16000)
        return [SttSegment(0.0, audio.size / 16000, "words", confidence=0.9, language="en")]

    finals = []
    engine = streaming.LiveAudioTranscriber(on_interim=lambda t: None, on_final=finals.append,
                                            transcribe=fake_transcribe, interim_seconds=100)
    for i in range(0, len(pcm), 333):  # odd byte counts split samples across chunks
        engine.feed(pcm[i : i + 333])
    engine.flush()  # no trailing silence: flush ends the utterance
    engine.close(timeout=10)
    assert len(finals) == 1
    assert seen[0] == pytest.approx(turns[0].end - turns[0].start, abs=0.5)
    with pytest.raises(RuntimeError):
        engine.feed(b"\x00\x00")


def test_lag_grows_when_transcription_is_slow_and_status_is_reported(live_meeting):
    files, turns = live_meeting
    pcm = audio_io.float_to_pcm16(audio_io.decode(files["wav"]))
    gate = threading.Event()
    statuses = []

    def slow_transcribe(audio, *, language):
        gate.wait(10)
        return [SttSegment(0.0, 1.0, "ok", language="en")]

    finals = []
    engine = streaming.LiveAudioTranscriber(on_interim=lambda t: None, on_final=finals.append,
                                            on_status=statuses.append, transcribe=slow_transcribe)
    feed_all(engine, pcm, 50)
    deadline = time.monotonic() + 10
    while engine.lag_seconds < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert engine.lag_seconds >= 3  # blocked on the first utterance: everything after it waits, nothing dropped
    gate.set()
    engine.close(timeout=30)
    assert engine.lag_seconds == 0
    assert len(finals) == len(turns)
    assert statuses[0]["behind"] is True and statuses[-1]["behind"] is False


async def test_async_callbacks_run_on_the_event_loop(live_meeting):
    files, turns = live_meeting
    pcm = audio_io.float_to_pcm16(audio_io.decode(files["wav"])[: int((turns[0].end + 1.0) * 16000)])
    loop = asyncio.get_running_loop()
    got = asyncio.Queue()

    async def on_final(segment):
        assert asyncio.get_running_loop() is loop
        await got.put(segment)

    def fake_transcribe(audio, *, language):
        return [SttSegment(0.0, 1.0, "hello", language="en")]

    engine = streaming.LiveAudioTranscriber(on_interim=lambda t: None, on_final=on_final, transcribe=fake_transcribe)
    engine.feed(pcm)  # never blocks the loop
    segment = await asyncio.wait_for(got.get(), timeout=10)
    assert segment.text == "hello"
    await engine.aclose()


# --- captions + audio ---------------------------------------------------------------------------------


def test_merge_keeps_caption_speakers_and_takes_audio_text():
    captions = [streaming.CaptionLine("Alice Smith", "good morning every one lets review the numbers", 0.0, 3.0),
                streaming.CaptionLine("Bob Jones", "revenue grue twelve percent", 3.5, 6.0)]
    audio = [SttSegment(0.1, 5.8, "Good morning everyone, let's review the numbers. Revenue grew 12 percent.",
                        words=tuple(Word(s, s + 0.3, w) for s, w in [
                            (0.1, "Good"), (0.5, "morning"), (0.9, "everyone,"), (1.4, "let's"), (1.8, "review"),
                            (2.2, "the"), (2.5, "numbers."), (3.6, "Revenue"), (4.1, "grew"), (4.6, "12"),
                            (5.2, "percent.")]))]
    merged = streaming.merge_caption_and_audio(captions, audio)
    assert [(m.speaker, m.text, m.source) for m in merged] == [
        ("Alice Smith", "Good morning everyone, let's review the numbers.", "merged"),
        ("Bob Jones", "Revenue grew 12 percent.", "merged")]
    assert merged[1].caption_text == "revenue grue twelve percent"


def test_merge_keeps_captions_without_audio_and_audio_without_captions():
    captions = [{"speaker": "Alice", "text": "First.", "start": 0.0, "end": 1.0}]
    audio = [SttSegment(10.0, 11.0, "Something nobody captioned.", speaker="Speaker 2")]
    merged = streaming.merge_caption_and_audio(captions, audio)
    assert [(m.speaker, m.text, m.source) for m in merged] == [
        ("Alice", "First.", "caption"), ("Speaker 2", "Something nobody captioned.", "audio")]


def test_merge_refuses_unrelated_audio_text():
    captions = [streaming.CaptionLine("Alice", "the budget is approved for next year", 0.0, 3.0)]
    audio = [SttSegment(0.5, 2.5, "completely different words entirely here")]
    merged = streaming.merge_caption_and_audio(captions, audio)
    assert merged[0].text == "the budget is approved for next year" and merged[0].source == "caption"
    assert merged[1].source == "audio"
