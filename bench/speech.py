#!/usr/bin/env python
"""Speech benchmark (``make bench-speech``); a measurement, not a test.

Generates meetings with espeak-ng (known words, voices and turns; cached in var/cache/bench-speech),
then measures on this machine:

* file transcription real-time factor: decode + VAD + Whisper base int8 + speaker separation,
  warm model, ``WHISPER_THREADS`` threads (target <= 0.20 on 2 cores);
* word error rate of the file pipeline on the generated set;
* diarization error rate (collar 0.25 s, optimal speaker mapping) on two- and three-voice meetings,
  both for the raw speaker turns and for the stored segments (target <= 10 %);
* speaker separation on eight longer meetings (2-4 voices, 100-475 s of speech) made with
  HELD-BACK voices: espeak-ng voices and pitch/speed values never used to tune it (both lists
  below): DER with the automatic count (target <= 0.12) and with the true count, speakers
  counted right (target >= 7 of 8), separation time per audio second (target < 0.1 on 2 cores),
  beside the previous feature-based separation in the same run; ``--tuning`` runs the tuning set;
* the live engine streaming the same kind of audio in real time (20 ms PCM16 chunks): latency from
  the end of each utterance to its final transcript p50/p95 (target p95 <= 2.0 s) and the compute
  ratio, transcription seconds per audio second (must stay below 0.7).

    make bench-speech
    .venv/bin/python bench/speech.py --live-meetings 2     # shorter live run
    .venv/bin/python bench/speech.py --separation-only      # speaker separation only (about 3 minutes)
    .venv/bin/python bench/speech.py --separation-only --tuning
    .venv/bin/python bench/speech.py --separation-only --tuning --meetings t2h,t4f   # a few meetings
    .venv/bin/python bench/speech.py --separation-only --tuning --coherence   # the count's measures per pair
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "meetpilot.settings.base")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

from meetings.speech import (  # noqa: E402
    SAMPLE_RATE,
    diarization,
    diarization_features,
    metrics,
    pipeline,
    streaming,
    vad,
    whisper,
)
from meetings.speech import audio as audio_io  # noqa: E402
from tests.speech import synth  # noqa: E402
from tests.speech.synth import Voice  # noqa: E402

# Voices and pitch/speed values used to tune the speaker separation; the benchmark never uses them.
TUNING_VOICES = [Voice("en-us+m3", 40, 160), Voice("en-gb+m1", 55, 150), Voice("en-us+f1", 60, 165),
                 Voice("en-029+f5", 70, 155), Voice("en-gb-scotland", 35, 170), Voice("en-us-nyc+m5", 60, 145),
                 Voice("en-gb+f2", 50, 160), Voice("en-us+m6", 70, 150)]
# Held back for the benchmark: other espeak-ng voices (named variants, other accents) and pitch and
# speed values that no tuning voice (nor the tests' alice/bob/carol) uses.
HELD_BACK_VOICES = [Voice("en-gb-x-rp+Andy", 45, 158), Voice("en-us+Linda", 65, 175),
                    Voice("en-gb-x-gbclan+m2", 28, 140), Voice("en-us+Annie", 78, 180),
                    Voice("en-gb-x-gbcwmd+Michael", 62, 168), Voice("en-029+f4", 45, 142),
                    Voice("en-us+klatt3", 28, 168), Voice("en-gb+Steph", 62, 140)]
# (name, voices, seconds of speech, seed[, variant]): the voices are drawn from the pool with the seed.
# Variants make harder meetings from the same voices (``VARIANTS``). The tuning set is large enough
# to choose constants on: 1-4 voices, 40-300 s, fast talkers, voices pushed to nearly one pitch.
TUNING_MEETINGS = [("t2a", 2, 90, 101), ("t2b", 2, 150, 102), ("t3a", 3, 120, 103), ("t3b", 3, 200, 104),
                   ("t4a", 4, 160, 105), ("t4b", 4, 240, 106), ("t1a", 1, 60, 107), ("t2c", 2, 300, 108),
                   ("t1b", 1, 120, 109, "fast"), ("t1c", 1, 90, 110, "slow"), ("t2d", 2, 60, 111, "fast"),
                   ("t2e", 2, 100, 112, "fast"), ("t2f", 2, 140, 113, "close"), ("t2g", 2, 200, 114, "close"),
                   ("t2h", 2, 80, 115, "slow"), ("t2i", 2, 250, 116, "fast"), ("t3c", 3, 90, 117, "close"),
                   ("t3d", 3, 150, 118, "fast"), ("t3e", 3, 240, 119, "close"), ("t3f", 3, 60, 120),
                   ("t3g", 3, 180, 121, "slow"), ("t4c", 4, 120, 122, "close"), ("t4d", 4, 200, 123, "fast"),
                   ("t4e", 4, 280, 124, "close"), ("t4f", 4, 100, 125), ("t1d", 1, 200, 126, "close"),
                   ("t2j", 2, 120, 127, "close"), ("t3h", 3, 300, 128, "fast")]
BENCH_MEETINGS = [("b2a", 2, 100, 201), ("b2b", 2, 240, 202), ("b2c", 2, 475, 203), ("b3a", 3, 150, 204),
                  ("b3b", 3, 320, 205), ("b3c", 3, 400, 206), ("b4a", 4, 200, 207), ("b4b", 4, 360, 208)]
# "fast": the first voice talks 45 words a minute faster; "slow": 35 slower; "close": every voice is
# moved to within a few steps of espeak-ng pitch 57, so pitch no longer tells them apart.
VARIANTS = {
    "fast": lambda i, v: Voice(v.name, v.pitch, v.speed + 45) if i == 0 else v,
    "slow": lambda i, v: Voice(v.name, v.pitch, v.speed - 35) if i == 0 else v,
    "close": lambda i, v: Voice(v.name, 56 + i, v.speed),
}

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
        turns_only = diarization.diarize(samples)  # again, to score the raw turns
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


def separation_meeting(folder: Path, name: str, count: int, seconds: float, seed: int, pool: list[Voice],
                       variant: str = "") -> tuple[dict[str, Path], list[synth.Turn], dict[str, Voice]]:
    rng = random.Random(seed)
    drawn = rng.sample(pool, count)
    if variant:
        drawn = [VARIANTS[variant](i, v) for i, v in enumerate(drawn)]
    voices = dict(zip([f"speaker{i + 1}" for i in range(count)], drawn, strict=True))
    script = synth.conversation(list(voices), seconds, seed=seed)
    files, turns = synth.meeting_files(folder, name, script, voices=voices)
    return files, turns, voices


def separation_cases(folder: Path, tuning: bool, only: set[str] | None = None):
    """Each separation meeting of the set (``only``: these names) with its voices, turns, audio and speech
    regions (the regions are shared by what is compared, not timed)."""
    meetings, pool = (TUNING_MEETINGS, TUNING_VOICES) if tuning else (BENCH_MEETINGS, HELD_BACK_VOICES)
    for name, count, seconds, seed, *variant in meetings:
        if only and name not in only:
            continue
        files, turns, voices = separation_meeting(folder, name, count, seconds, seed, pool, *variant)
        samples = audio_io.decode(files["wav"])
        yield name, count, voices, turns, samples, vad.speech_regions(samples)


def bench_separation(folder: Path, tuning: bool, only: set[str] | None = None) -> list[dict]:
    rows = []
    for name, count, voices, turns, samples, regions in separation_cases(folder, tuning, only):
        duration = samples.size / SAMPLE_RATE
        reference = [(t.start, t.end, t.speaker) for t in turns]
        row = {"name": name, "voices": count, "seconds": duration,
               "names": ", ".join(f"{v.name} p{v.pitch} s{v.speed}" for v in voices.values())}
        for key, module in (("new", diarization), ("old", diarization_features)):
            started, cpu = time.perf_counter(), time.process_time()
            found = module.diarize(samples, regions=regions)
            row[f"{key}_time"] = (time.perf_counter() - started) / duration
            row[f"{key}_cpu"] = (time.process_time() - cpu) / duration  # CPU seconds, all threads
            row[f"{key}_found"] = len({t.speaker for t in found})
            row[f"{key}_der"] = metrics.diarization_error_rate(reference, [(t.start, t.end, str(t.speaker))
                                                                         for t in found])
            hinted = module.diarize(samples, regions=regions, num_speakers=count)
            row[f"{key}_der_hint"] = metrics.diarization_error_rate(reference, [(t.start, t.end, str(t.speaker))
                                                                              for t in hinted])
        rows.append(row)
        print(f"{name}: {row}", file=sys.stderr)
    return rows


def print_separation(rows: list[dict], tuning: bool) -> None:
    print(f"\nSpeaker separation · {'TUNING' if tuning else 'held-back'} voices · {os.cpu_count()} CPUs · "
          f"load average at the end {os.getloadavg()[0]:.1f} (other work on the machine slows the wall clock)\n")
    print("| meeting | voices | audio s | found (new / old) | DER auto (new / old) | DER true count (new / old) "
          "| time x audio (new / old) | espeak-ng voices |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['name']} | {r['voices']} | {r['seconds']:.0f} | {r['new_found']} / {r['old_found']} "
              f"| {r['new_der']:.3f} / {r['old_der']:.3f} | {r['new_der_hint']:.3f} / {r['old_der_hint']:.3f} "
              f"| {r['new_time']:.3f} / {r['old_time']:.3f} | {r['names']} |")
    total = sum(r["seconds"] for r in rows)
    print("\n| measure | new (embeddings) | previous (features) | target |")
    print("|---|---|---|---|")
    for key, label, target in (("der", "DER, automatic count (mean of meetings)", "<= 0.12"),
                               ("der_hint", "DER, true count given", "")):
        print(f"| {label} | {statistics.mean(r['new_' + key] for r in rows):.3f} | "
              f"{statistics.mean(r['old_' + key] for r in rows):.3f} | {target} |")
    print(f"| speaker count right | {sum(r['new_found'] == r['voices'] for r in rows)} of {len(rows)} | "
          f"{sum(r['old_found'] == r['voices'] for r in rows)} of {len(rows)} | >= 7 of 8 |")
    print(f"| separation time x audio duration (wall clock) | "
          f"{sum(r['new_time'] * r['seconds'] for r in rows) / total:.3f} | "
          f"{sum(r['old_time'] * r['seconds'] for r in rows) / total:.3f} | < 0.1 |")
    print(f"| separation CPU time x audio duration (all threads; less sensitive to other load) | "
          f"{sum(r['new_cpu'] * r['seconds'] for r in rows) / total:.3f} | "
          f"{sum(r['old_cpu'] * r['seconds'] for r in rows) / total:.3f} | |")


def bench_coherence(folder: Path, tuning: bool, only: set[str] | None = None) -> None:
    """The count's two measures for every two groups found at the true count and at one more (which
    splits one voice in two): distance + pitch (``pair_apart``) and changes per window inside speech
    regions after re-segmentation (``coherence``), beside the boundary they must reach."""
    import numpy as np

    from meetings.speech import voice_encoder

    print("\n| meeting | k | groups | voices | distance + pitch | changes per window | boundary | two voices |")
    print("|---|---|---|---|---|---|---|---|")
    spread: dict[str, list[float]] = {"one voice": [], "two voices": []}
    for name, count, _, turns, samples, regions in separation_cases(folder, tuning, only):
        windows = diarization.embedding_windows(regions, samples.size / SAMPLE_RATE)
        emb = voice_encoder.embed_windows(samples, [(w.start, w.end) for w in windows])
        log_f0 = diarization.window_pitch(samples, windows)
        x = diarization.voice_vectors(emb, log_f0)
        lengths = np.array([w.end - w.start for w in windows])
        # The voice speaking most of each window.
        truth = np.array([max(turns, key=lambda t, w=w: min(w.end, t.end) - max(w.start, t.start)).speaker
                          for w in windows])
        for k in sorted({max(count, 2), count + 1}):
            labels = diarization.cluster_embeddings(emb, log_f0, lengths, num_speakers=k)
            groups = np.unique(labels)
            apart = diarization.pair_apart(emb, log_f0, labels)
            switches = diarization.coherence(x, windows, regions, labels)
            if switches is None:
                continue
            voice = [Counter(truth[labels == g]).most_common(1)[0][0] for g in groups]
            for a in range(groups.size):
                for b in range(a + 1, groups.size):
                    kind = "one voice" if voice[a] == voice[b] else "two voices"
                    if (kind == "one voice") == (k == count + 1):
                        spread[kind].append(float(switches[a, b]))
                    need = diarization.COHERENT_APART + switches[a, b] / diarization.SWITCH_RATE
                    print(f"| {name} | {k} | {a}-{b} | {kind} | {apart[a, b]:.2f} | {switches[a, b]:.3f} | "
                          f"{need:.2f} | {'yes' if apart[a, b] >= need else 'no'} |")
    for kind, values in spread.items():
        if values:
            where = "k = true count + 1, the halves of one voice" if kind == "one voice" else "k = true count"
            print(f"\n{kind} ({where}): changes per window {min(values):.3f}-{max(values):.3f}, "
                  f"median {statistics.median(values):.3f}, {len(values)} pairs")


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
    parser.add_argument("--separation-only", action="store_true", help="only the speaker separation benchmark")
    parser.add_argument("--tuning", action="store_true", help="separation: the tuning set, not the held-back one")
    parser.add_argument("--meetings", help="separation: only these meetings (comma-separated names, e.g. t2a,t3b)")
    parser.add_argument("--coherence", action="store_true",
                        help="separation: the count's measures at the true count and one more, per pair of groups")
    parser.add_argument("--cache", default=str(Path(settings.VAR_DIR) / "cache" / "bench-speech"))
    args = parser.parse_args()
    folder = Path(args.cache)
    folder.mkdir(parents=True, exist_ok=True)
    if args.separation_only:
        only = set(args.meetings.split(",")) if args.meetings else None
        if args.coherence:
            bench_coherence(folder, args.tuning, only)
            return
        print_separation(bench_separation(folder, args.tuning, only), args.tuning)
        return
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
    print_separation(bench_separation(folder, args.tuning), args.tuning)


if __name__ == "__main__":
    main()
