"""`make bench-analysis`: how long the meeting analysis takes, on real meeting text, beside the rules it replaced.

Rows (medians of --repeat runs, on this machine, in the same run):
* a 2-hour meeting (the four AMI ES meetings of one design team back to back, about 2 hours of real speech):
  the previous rule detectors alone (baseline), the learned detector + rules the product uses now, and the whole
  local after-meeting analysis (summary, topics, sentiment, ...) without and with sentence embeddings;
  target: the analysis under 30 s on 2 cores;
* one live caption: the detector's live step (score_live) and the spoken-number fact check of a caption against
  its passages (eval.real.factcheck cases), p50 / p95, beside the previous first-passage check;
  target: the fact-check alert within 1 s of the caption at p95 (the check is a small part of that; retrieval
  is measured by make bench-knowledge).

Data: EVAL_DATA_DIR (default ../shared/datasets).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _median_seconds(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _percentiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return ordered[len(ordered) // 2], ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def _two_hours(meetings):
    from meetings.analysis import Utterance

    series = sorted({m.series for m in meetings})[0]
    out, offset = [], 0.0
    for m in sorted((m for m in meetings if m.series == series), key=lambda m: m.meeting):
        for u in m.utterances:
            out.append(Utterance(speaker=u.speaker, text=u.text, start=u.start + offset, end=u.end + offset))
        offset = out[-1].end + 60.0
    return series, out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "meetpilot.settings.base")
    import django

    django.setup()
    from eval.real import factcheck
    from eval.real.data import ami_meetings
    from knowledge.embeddings import embed_sentences
    from meetings.analysis import analyze_transcript, score_live
    from meetings.analysis.combined import transcript_items
    from meetings.analysis.transcript import contextual_action_items, contextual_decisions

    meetings = ami_meetings()
    series, utterances = _two_hours(meetings)
    day = date(2005, 1, 10)
    names = sorted({u.speaker for u in utterances})
    minutes = (utterances[-1].end - utterances[0].start) / 60

    def rules():
        contextual_action_items(utterances, meeting_date=day, participants=names)
        contextual_decisions(utterances)

    def product_items():
        transcript_items(utterances, meeting_date=day, participants=names,
                         rule_items=contextual_action_items(utterances, meeting_date=day, participants=names),
                         rule_decisions_found=contextual_decisions(utterances))

    embed_sentences(["warm up"])  # model load is not part of a report
    baseline = _median_seconds(rules, args.repeat)
    rows = [
        ("rule detectors only (previous, baseline)", baseline),
        ("learned detector + rules (product)", _median_seconds(product_items, args.repeat)),
        ("whole local analysis, no embeddings", _median_seconds(
            lambda: analyze_transcript(utterances, meeting_date=day, participants=names), args.repeat)),
        ("whole local analysis, MiniLM embeddings", _median_seconds(
            lambda: analyze_transcript(utterances, meeting_date=day, participants=names, embed=embed_sentences),
            max(1, args.repeat - 2))),
    ]
    print(f"\n2-hour meeting: AMI {series}a-d back to back, {len(utterances)} utterances, {minutes:.0f} minutes")
    print(f"{'step':<44} {'seconds':>8} {'x baseline':>11}")
    for name, seconds in rows:
        print(f"{name:<44} {seconds:8.2f} {seconds / baseline:11.1f}")

    live_times = []
    for i in range(40, min(len(utterances), 640)):
        started = time.perf_counter()
        score_live(utterances[: i + 1])
        live_times.append(time.perf_counter() - started)
    cases, _ = factcheck.build_cases(meetings)
    checks = [factcheck.product(c).seconds for c in cases]
    previous = []
    for c in cases:
        started = time.perf_counter()
        factcheck.previous_logic(c)
        previous.append(time.perf_counter() - started)
    print(f"\none live caption ({len(live_times)} detector steps, {len(cases)} fact-check cases)")
    print(f"{'step':<44} {'p50 ms':>8} {'p95 ms':>8}")
    for name, values in (("detector live step (score_live)", live_times),
                         ("fact check, previous first-passage logic", previous),
                         ("fact check, metric and subject (product)", checks)):
        p50, p95 = _percentiles(values)
        print(f"{name:<44} {1000 * p50:8.2f} {1000 * p95:8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
