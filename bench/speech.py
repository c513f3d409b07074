#!/usr/bin/env python
"""Speech benchmark (``make bench-speech``); a measurement, not a test.

Generates meetings with espeak-ng (known words, voices and turns; cached in var/cache/bench-speech),
then measures on this machine:

* file transcription real-time factor: decode + VAD + Whisper base int8 + speaker separation,
  warm model, ``WHISPER_THREADS`` threads (target <= 0.20 on 2 cores);
* word error rate of the file pipeline on the generated set;
* diarization error rate (collar 0.25 s, optimal speaker mapping) on two- and three-voice meetings,
  both for the raw speaker turns and for the stored segments (target <= 10 %);
* the live engine streaming the same kind of audio in real time (20 ms PCM16 chunks): latency from
  the end of each utterance to its final transcript p50/p95 (target p95 <= 2.0 s) and the compute
  ratio, transcription seconds per audio second (must stay below 0.7).

    make bench-speech
    .venv/bin/python bench/speech.py --live-meetings 2     # shorter live run
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "meetpilot.settings.base")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

from meetings.speech import SAMPLE_RATE, diarization, metrics, pipeline, streaming, whisper  # noqa: E402
from meetings.speech import audio as audio_io  # noqa: E402
from tests.speech import synth  # noqa: E402

EXTRA_TWO = [
    ("carol", "Did the customer sign the renewal contract yesterday?"),
    ("bob", "Not yet. They asked for a discount on the annual plan."),
    ("carol", "We can offer five percent if they commit for two years."),
    ("bob", "I will send them the new offer this afternoon."),
]
EXTRA_THREE = [
    ("bob", "Let us start with the support queue. It grew again this week."),
    ("alice", "Most tickets are about the password reset email."),
    ("carol", "The email provider had an outage on Tuesday."),
    ("bob", "Then we should add a second provider as a backup."),
    ("alice", "I agree. I can set it up before the end of the month."),
    ("carol", "Please also write a short note for the customers."),
]
SETS = [("two-a", synth.TWO_SPEAKERS, 2), ("two-b", EXTRA_TWO, 2), ("three-a", synth.THREE_SPEAKERS, 3),
        ("three-b", EXTRA_THREE, 3)]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def bench_files(folder: Path) -> dict:
    rows = []
    for name, script, speakers in SETS:
        files, turns = synth.meeting_files(folder, name, script, formats=("wav", "mp3"))
        reference = [(t.start, t.end, t.speaker) for t in turns]
        started = time.perf_counter()
        info = audio_io.probe(files["mp3"])
        samples = audio_io.decode(files["mp3"], expected_duration=info.duration)
        decoded = time.perf_counter()
        result = pipeline.process_audio(samples)
        elapsed = time.perf_counter() - started
        seconds = samples.size / SAMPLE_RATE
        turns_only = diarization.diarize(samples)
        rows.append({
            "name": name, "voices": speakers, "seconds": seconds, "elapsed": elapsed,
            "decode": decoded - started, **{k: v for k, v in result.timings.items()},
            "wer": metrics.word_error_rate(synth.reference_text(turns), " ".join(s.text for s in result.segments)),
            "found": len(result.speakers),
            "der_turns": metrics.diarization_error_rate(
                reference, [(t.start, t.end, str(t.speaker)) for t in turns_only]),
            "der_segments": metrics.diarization_error_rate(
                reference, [(s.start, s.end, s.speaker or "?") for s in result.segments]),
        })
    return {"rows": rows}


def bench_live(folder: Path, meetings: int) -> dict:
    latencies: list[float] = []
    ratios: list[float] = []
    wers: list[float] = []
    for name, script, _ in SETS[:meetings]:
        files, turns = synth.meeting_files(folder, f"live-{name}", script, gap=1.1)
        pcm = audio_io.float_to_pcm16(audio_io.decode(files["wav"]))
        finals: list[tuple[float, object]] = []

        def on_final(segment, finals=finals) -> None:
            finals.append((time.perf_counter(), segment))

        engine = streaming.LiveAudioTranscriber(on_interim=lambda text: None, on_final=on_final)
        step = int(0.02 * SAMPLE_RATE) * 2
        started = time.perf_counter()
        for i in range(0, len(pcm), step):
            engine.feed(pcm[i : i + step])
            delay = started + (i + step) / (2 * SAMPLE_RATE) - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        engine.close()
        ratios.append(engine.compute_ratio)
        for turn in turns:
            match = [(at, seg) for at, seg in finals if seg.start - 0.6 <= turn.start <= seg.end]
            if match:
                latencies.append(match[0][0] - (started + turn.end))
        wers.append(metrics.word_error_rate(synth.reference_text(turns), " ".join(s.text for _, s in finals)))
    print("live latencies (s):", " ".join(f"{x:.2f}" for x in latencies), file=sys.stderr)
    return {"latencies": latencies, "ratios": ratios, "wer": statistics.mean(wers) if wers else float("nan"),
            "utterances": len(latencies)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--live-meetings", type=int, default=len(SETS))
    parser.add_argument("--live-only", action="store_true", help="skip the file benchmark")
    parser.add_argument("--cache", default=str(Path(settings.VAR_DIR) / "cache" / "bench-speech"))
    args = parser.parse_args()
    folder = Path(args.cache)
    folder.mkdir(parents=True, exist_ok=True)
    load = time.perf_counter()
    whisper.get_model()
    load = time.perf_counter() - load
    # Warm-up: the first call pays one-off allocations.
    warm = audio_io.decode(synth.meeting_files(folder, "two-a", synth.TWO_SPEAKERS)[0]["wav"])
    pipeline.process_audio(warm[: 8 * SAMPLE_RATE])
    if args.live_only:
        live = bench_live(folder, args.live_meetings)
        lat = live["latencies"]
        print(f"live latency p50 {percentile(lat, 50):.2f} s, p95 {percentile(lat, 95):.2f} s, "
              f"compute ratio max {max(live['ratios']):.2f}, WER {live['wer']:.1%}")
        return
    files = bench_files(folder)
    live = bench_live(folder, args.live_meetings)
    rows = files["rows"]
    total_audio = sum(r["seconds"] for r in rows)
    total_time = sum(r["elapsed"] for r in rows)
    print(f"\nSpeech benchmark · Whisper base int8 · {settings.WHISPER_THREADS} threads · {os.cpu_count()} CPUs · "
          f"model load {load:.1f} s\n")
    print("| meeting | voices | found | audio s | RTF | decode | vad | asr | diarize | WER | DER turns "
          "| DER segments |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['name']} | {r['voices']} | {r['found']} | {r['seconds']:.1f} | {r['elapsed'] / r['seconds']:.3f} "
              f"| {r['decode']:.2f} | {r.get('vad', 0):.2f} | {r.get('transcribe', 0):.2f} | {r.get('diarize', 0):.2f} "
              f"| {r['wer']:.1%} | {r['der_turns']:.1%} | {r['der_segments']:.1%} |")
    two = [r for r in rows if r["voices"] == 2]
    three = [r for r in rows if r["voices"] == 3]
    print("\n| measure | value | target |")
    print("|---|---|---|")
    print(f"| file RTF (decode + VAD + ASR + separation) | {total_time / total_audio:.3f} | <= 0.20 |")
    print(f"| file WER | {statistics.mean(r['wer'] for r in rows):.1%} | |")
    print(f"| DER, 2 voices (segments / turns) | {statistics.mean(r['der_segments'] for r in two):.1%} / "
          f"{statistics.mean(r['der_turns'] for r in two):.1%} | <= 10% |")
    print(f"| DER, 3 voices (segments / turns) | {statistics.mean(r['der_segments'] for r in three):.1%} / "
          f"{statistics.mean(r['der_turns'] for r in three):.1%} | <= 10% |")
    lat = live["latencies"]
    print(f"| live latency end of utterance -> final, p50 / p95 ({live['utterances']} utterances) | "
          f"{percentile(lat, 50):.2f} s / {percentile(lat, 95):.2f} s | p95 <= 2.0 s |")
    print(f"| live compute ratio (ASR s / audio s), mean / max | {statistics.mean(live['ratios']):.2f} / "
          f"{max(live['ratios']):.2f} | < 0.7 |")
    print(f"| live WER | {live['wer']:.1%} | |")


if __name__ == "__main__":
    main()
