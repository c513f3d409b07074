"""`make eval-llm`: the language-model path against a real OpenAI-compatible server, beside the local one.

Runs through the product's own code (``meetings.live.llm`` for live action items, decisions and fact checks;
``meetings.intelligence.llm_analysis`` for the after-meeting report) with the global LLM_* settings pointing at
the server that scripts/eval-llm.sh starts. Prints, on the same samples of the real dev meetings:

* live action items and decisions: utterance precision / recall / F1 of the model and of the local detector,
  on a sample of utterances (every gold-labelled one of the sampled meetings plus as many others), with how often
  the model's answer was unusable (invalid or truncated JSON, timeout) and the local result was used instead;
* fact checks: the eval.real.factcheck cases, model verdicts beside the local checker's;
* the after-meeting report of one meeting: which sections the model wrote and which fell back, and that a report
  came out whatever the model answered.

The time budget is raised to ``--budget`` seconds (default 30) so the figures measure the model, not the CPU;
how many answers would have missed the live budget (``LIVE_LLM_BUDGET_SECONDS``) is reported beside them.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections import Counter
from datetime import date
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "meetpilot.settings.base")
    import django

    django.setup()


def _prf(tp: int, predicted: int, gold: int) -> str:
    p = tp / predicted if predicted else 0.0
    r = tp / gold if gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return f"P {p:.3f}  R {r:.3f}  F1 {f:.3f}  ({predicted} predicted, {gold} gold)"


def _sample(meetings, per_meeting: int, seed: int = 7):
    """(meeting, index) pairs: every labelled utterance of the meetings and as many unlabelled ones."""
    rng = random.Random(seed)
    out = []
    for m in meetings:
        labelled = [i for i, u in enumerate(m.utterances) if u.labels]
        others = [i for i, u in enumerate(m.utterances) if not u.labels and len(u.text.split()) >= 4]
        out += [(m, i) for i in labelled[:per_meeting]]
        out += [(m, i) for i in rng.sample(others, min(len(others), len(labelled[:per_meeting])))]
    return out


def _live_section(meetings, args, live_budget: float) -> list[str]:
    from meetings.analysis import Utterance, score_utterances
    from meetings.analysis.learned import committed_model
    from meetings.live import llm as live_llm

    model = committed_model()
    sample = _sample(meetings, args.per_meeting)
    counts = {k: Counter() for k in ("action", "decision")}
    fallbacks: Counter = Counter()
    slow = 0
    scores_cache = {}
    for m, i in sample:
        utts = [Utterance(speaker=u.speaker, text=u.text, start=u.start, end=u.end) for u in m.utterances]
        if m.meeting not in scores_cache:
            scores_cache[m.meeting] = score_utterances(utts, model=model)
        window = utts[max(0, i - 4): i + 1]
        gold = set(m.utterances[i].labels)
        for kind in ("action", "decision"):
            started = time.monotonic()
            if kind == "action":
                outcome = live_llm.live_action_items(company=None, window=window, meeting_date=date(2005, 1, 10),
                                                     participants=[], local=[])
            else:
                outcome = live_llm.live_decisions(company=None, window=window, local=[])
            slow += (time.monotonic() - started) > live_budget
            if outcome.provider.startswith("local"):
                fallbacks[outcome.provider] += 1
            said_llm = bool(outcome.items) and not outcome.provider.startswith("local")
            said_local = scores_cache[m.meeting][i].get(kind) >= model.threshold(kind)
            c = counts[kind]
            c["gold"] += kind in gold
            c["llm_pred"] += said_llm
            c["llm_tp"] += said_llm and kind in gold
            c["local_pred"] += said_local
            c["local_tp"] += said_local and kind in gold
    lines = [f"sample: {len(sample)} utterances of {len({m.meeting for m, _ in sample})} meetings "
             f"(every labelled one, as many unlabelled); exact utterance match"]
    for kind, c in counts.items():
        lines.append(f"{kind:<9} model  {_prf(c['llm_tp'], c['llm_pred'], c['gold'])}")
        lines.append(f"{kind:<9} local  {_prf(c['local_tp'], c['local_pred'], c['gold'])}  (in-sample: the "
                     "committed detector was trained on every dev meeting; its fold figures are in make eval)")
    calls = 2 * len(sample)
    lines.append(f"model answers unusable, local result used: {sum(fallbacks.values())} of {calls} "
                 f"({', '.join(f'{k}: {v}' for k, v in fallbacks.most_common()) or 'none'})")
    lines.append(f"answers slower than the live budget ({live_budget:.1f} s): {slow} of {calls}")
    return lines


def _factcheck_section(meetings, args) -> list[str]:
    from eval.real import factcheck
    from meetings.live import llm as live_llm

    cases, _ = factcheck.build_cases(meetings)
    cases = cases[: args.fact_cases]
    right_llm = alerts_llm = fallbacks = 0
    local = factcheck.score(cases, [factcheck.product(case) for case in cases])
    for case in cases:
        outcome = live_llm.live_fact_check(company=None, claim=case.text, passages=[
            live_llm.FactCheckPassage(text=p.text) for p in case.passages])
        if outcome is None or not outcome.items:
            fallbacks += 1
            continue
        answer = outcome.items[0]
        alerts_llm += answer.verdict == "incorrect"
        right_llm += (answer.verdict == "incorrect") == case.changed  # an alert exactly on the changed figures
    n = len(cases) or 1
    return [f"cases: {len(cases)} (half as said, half with the number changed)",
            f"model  verdict accuracy {right_llm / n:6.1%}  alerts {alerts_llm}  unusable answers {fallbacks}",
            f"local  verdict accuracy {local.accuracy:6.1%}  false alarms {local.false_alarms:6.1%}"]


def _report_section(meetings, args) -> list[str]:
    from meetings.analysis import Utterance
    from meetings.intelligence.llm_analysis import analyze_utterances

    m = meetings[0]
    utts = [Utterance(speaker=u.speaker, text=u.text, start=u.start, end=u.end)
            for u in m.utterances[: args.report_utterances]]
    started = time.monotonic()
    outcome = analyze_utterances(utts, company=None, meeting_title=m.meeting, meeting_date=date(2005, 1, 10),
                                 participants=sorted({u.speaker for u in utts}))
    seconds = time.monotonic() - started
    a = outcome.analysis
    lines = [f"meeting {m.meeting}, first {len(utts)} utterances, {seconds:.0f} s: provider {outcome.provider}"]
    for section, label in sorted(outcome.sections.items()):
        why = outcome.failures.get(section, "")
        lines.append(f"  {section:<16} {label}{f'  ({why})' if why else ''}")
    lines.append(f"  report: summary {len(a.short_summary or '')} chars, {len(a.action_items)} action items, "
                 f"{len(a.decisions)} decisions, partial={outcome.is_partial}")
    return lines


def run(args: argparse.Namespace) -> str:
    from django.conf import settings

    from eval.real.data import ami_meetings

    if not settings.LLM_BASE_URL:
        return "LLM_BASE_URL is not set: run this through `make eval-llm`, which starts the model server."
    live_budget = settings.LIVE_LLM_BUDGET_SECONDS
    settings.LIVE_LLM_BUDGET_SECONDS = args.budget  # measure the model, not the CPU; misses are counted
    meetings = sorted(ami_meetings(), key=lambda m: m.meeting)
    picked = meetings[:: max(1, len(meetings) // args.meetings)][: args.meetings]
    print(f"model: {settings.LLM_MODEL} at {settings.LLM_BASE_URL}", flush=True)
    for title, section in (("live action items and decisions", lambda: _live_section(picked, args, live_budget)),
                           ("fact checks (eval.real.factcheck cases)", lambda: _factcheck_section(meetings, args)),
                           ("after-meeting report through the model", lambda: _report_section(picked, args))):
        print(f"\n== {title}", flush=True)
        print("\n".join(section()), flush=True)
    return ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    # Defaults sized for a 270M model on 2 CPU cores (about 10 minutes); raise them for a bigger server.
    parser.add_argument("--meetings", type=int, default=1, help="meetings sampled for the live section")
    parser.add_argument("--per-meeting", type=int, default=6, help="labelled utterances per sampled meeting")
    parser.add_argument("--fact-cases", type=int, default=8)
    parser.add_argument("--report-utterances", type=int, default=40)
    parser.add_argument("--budget", type=float, default=30.0, help="seconds per model answer in this run")
    args = parser.parse_args(argv)
    _setup()
    print(run(args) or "", end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
