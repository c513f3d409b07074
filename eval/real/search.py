"""Meeting search on real meetings (QMSum val dev): the product's ``search()`` beside BM25.

    python -m eval.real.search                 # or: python -m eval.real.run search
    python -m eval.real.search --keep          # keep the database (EMBEDDED_DB_NAME) afterwards

The 35 meetings are imported into a database of their own (EMBEDDED_DB_NAME, default
meetpilot_eval_search, on the embedded server; created, migrated and dropped here, like
bench/knowledge.py) through the product's services: ``meeting_create``, ``segments_store`` (one
segment per turn, synthetic times) and ``meeting_index``. Each query runs through
``search()`` across all meetings and with the query's meeting as filter; a hit is the transcript
window it links to (its first to last turn), and a query is answered at k when one of its top k
hits lies in the right meeting and overlaps a gold span (shared/datasets/README.md).

The ranking is learned (``meetings.intelligence.search_model``, trained by
``eval/real/train_search.py``) and measured by 5 meeting-level folds (a meeting series such as
ES2006a-d stays in one fold): each fold's queries are answered by ``search()`` with weights fitted
on the other four folds' meetings only, and that cross-validated figure is the one reported, with
each fold's recall@5. The candidate lists do not depend on the weights, so they are fetched once per
query and replayed through ``search()`` for every fold. Rank fusion without the learned ranking
(``Ranking()``, the previous product) is shown beside it, and the shipped weights (fitted on all 35
meetings, so in-sample here) for reference.

Baselines, same run: Okapi BM25 (k1 1.2, b 0.75; lower-cased words, transcription marks and
English stop words removed, no stemming) over 5-turn windows, and the same BM25 over the
product's own windows (so a gain can be told apart from the window shape).
"""

from __future__ import annotations

import argparse
import math
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))

from eval.real.data import QmsumMeeting, QmsumQuery, qmsum, series_of
from eval.real.meetings_db import (
    Imported,
    database_create,
    database_drop,
    database_existing,
    django_setup,
    imported_again,
    meeting_import,
    pct,
    table,
)
from eval.real.train_search import model_fit, pools_build

FOLDS = 5
KS = (5, 10)
BASELINE_TURNS = 5
STOP = frozenset(
    """a about above after again against all am an and any are as at be because been before being below
between both but by can could did do does doing down during each few for from further had has have having he her
here hers herself him himself his how i if in into is it its itself just me more most my myself no nor not now of
off on once only or other our ours ourselves out over own same she should so some such than that the their theirs
them themselves then there these they this those through to too under until up very was we were what when where
which while who whom why will with would you your yours yourself yourselves""".split()  # noqa: SIM905
)
_MARK = re.compile(r"\{[^{}]*\}")
_WORDS = re.compile(r"[a-z0-9]+")


# --- scoring --------------------------------------------------------------------------------


def answered_at(ranked: list[tuple[str, int, int]], query: QmsumQuery, k: int) -> bool:
    """``ranked``: (meeting, first turn, last turn) per hit, best first."""
    return any(
        meeting == query.meeting and any(first <= b and a <= last for a, b in query.spans)
        for meeting, first, last in ranked[:k]
    )


def recall(results: dict[int, list[tuple[str, int, int]]], queries: list[QmsumQuery], ids: list[int], k: int) -> float:
    return sum(answered_at(results[i], queries[i], k) for i in ids) / max(1, len(ids))


# --- BM25 baseline --------------------------------------------------------------------------


def tokens(text: str) -> list[str]:
    return [w for w in _WORDS.findall(_MARK.sub(" ", text.lower())) if w not in STOP]


class Bm25:
    """Okapi BM25 (k1 1.2, b 0.75) over a fixed list of passages."""

    def __init__(self, passages: list[list[str]], k1: float = 1.2, b: float = 0.75):
        self.k1, self.b = k1, b
        self.tf = [Counter(p) for p in passages]
        self.length = [len(p) for p in passages]
        self.mean = sum(self.length) / max(1, len(passages))
        df = Counter(w for tf in self.tf for w in tf)
        total = len(passages)
        self.idf = {w: math.log(1 + (total - n + 0.5) / (n + 0.5)) for w, n in df.items()}

    def scores(self, query: list[str], among: list[int]) -> list[tuple[float, int]]:
        words = [w for w in dict.fromkeys(query) if w in self.idf]
        out = []
        for i in among:
            tf, norm = self.tf[i], self.k1 * (1 - self.b + self.b * self.length[i] / self.mean)
            score = sum(self.idf[w] * tf[w] * (self.k1 + 1) / (tf[w] + norm) for w in words if w in tf)
            out.append((score, i))
        out.sort(key=lambda x: (-x[0], x[1]))
        return out


def bm25_results(
    windows: list[tuple[str, int, int, str]], queries: list[QmsumQuery], *, within: bool
) -> dict[int, list[tuple[str, int, int]]]:
    """``windows``: (meeting, first turn, last turn, text)."""
    index = Bm25([tokens(w[3]) for w in windows])
    by_meeting: dict[str, list[int]] = {}
    for i, w in enumerate(windows):
        by_meeting.setdefault(w[0], []).append(i)
    everything = list(range(len(windows)))
    out = {}
    for qi, query in enumerate(queries):
        among = by_meeting.get(query.meeting, []) if within else everything
        out[qi] = [windows[i][:3] for _, i in index.scores(tokens(query.query), among)[: max(KS)]]
    return out


def fixed_windows(meetings: list[QmsumMeeting], size: int) -> list[tuple[str, int, int, str]]:
    return [
        (
            m.meeting,
            start,
            min(start + size, len(m.turns)) - 1,
            " ".join(t["text"] for t in m.turns[start : start + size]),
        )
        for m in meetings
        for start in range(0, len(m.turns), size)
    ]


# --- the product ----------------------------------------------------------------------------


def memoised_candidates() -> tuple[Callable, Callable]:
    """Replace the candidate fetch in ``meetings.intelligence.search`` by a cached one (replay)."""
    from meetings.intelligence import search as search_module

    original = search_module.chunks_candidates
    cache: dict = {}

    def cached(**kwargs):
        # An array's repr elides its middle: key a query embedding by its bytes.
        key = repr(
            sorted(((k, v.tobytes() if hasattr(v, "tobytes") else v) for k, v in kwargs.items()), key=lambda kv: kv[0])
        )
        if key not in cache:
            cache[key] = original(**kwargs)
        return cache[key]

    search_module.chunks_candidates = cached

    def restore() -> None:
        search_module.chunks_candidates = original

    return cached, restore


def product_results(
    *,
    company,
    queries: list[QmsumQuery],
    imported: dict[str, Imported],
    within: bool,
    ranking,
    ids: list[int] | None = None,
    timings: list[float] | None = None,
) -> dict[int, list[tuple[str, int, int]]]:
    from accounts.tenancy import tenant_scope
    from meetings.intelligence.search import SearchFilters, search

    meeting_of = {imp.meeting_id: name for name, imp in imported.items()}
    out = {}
    with tenant_scope(company):
        for qi in ids if ids is not None else range(len(queries)):
            query = queries[qi]
            filters = SearchFilters(meeting_id=imported[query.meeting].meeting_id) if within else None
            started = time.perf_counter()
            hits = search(company=company, query=query.query, filters=filters, k=max(KS), ranking=ranking)
            if timings is not None:
                timings.append(time.perf_counter() - started)
            ranked = []
            for hit in hits:
                if hit.source_type != "transcript" or hit.meeting_id not in meeting_of:
                    continue
                name = meeting_of[hit.meeting_id]
                turns = [
                    imported[name].turn_of_segment[int(line[0])]
                    for line in hit.lines
                    if int(line[0]) in imported[name].turn_of_segment
                ]
                if turns:
                    ranked.append((name, min(turns), max(turns)))
            out[qi] = ranked
    return out


def meeting_folds(meetings: list[QmsumMeeting], k: int = FOLDS) -> list[set[str]]:
    """k groups of meetings; a series (ES2006a-d) stays together; series sorted, dealt round-robin."""
    series = sorted({series_of(m.meeting) for m in meetings})
    group = {s: i % k for i, s in enumerate(series)}
    return [{m.meeting for m in meetings if group[series_of(m.meeting)] == f} for f in range(k)]


SPACINGS = (700, 1000, 1500, 2000, 2500)  # characters between two hits of one meeting, tried in the nested row


def spacing_chosen(*, company, queries, imported, model, train: list[int], within: bool) -> int:
    """The hit spacing that answers most of the training folds' queries at 5, then at 10; ties go to the
    smaller spacing (a rule that does not depend on the shipped value, itself chosen by looking at the folds)."""
    from meetings.intelligence.search import Ranking

    def answered(spacing: int) -> tuple[float, float, int]:
        ranking = Ranking(model=model, min_spacing_chars=spacing)
        results = product_results(
            company=company, queries=queries, imported=imported, within=within, ranking=ranking, ids=train
        )
        return recall(results, queries, train, 5), recall(results, queries, train, 10), -spacing

    return max(SPACINGS, key=answered)


def cross_validate(
    *, company, meetings, queries, imported
) -> tuple[dict[str, dict], list[dict], dict[str, dict], dict[str, dict]]:
    """Per fold: the ranking learned on the other folds' meetings answers this fold's queries.

    Returns the cross-validated results, each fold's recall@5 (across, within) and spacings chosen
    on its training folds, for reference the in-sample results of weights fitted on every meeting
    (what ships), and the results with the spacing between hits chosen on the training folds too
    (nested: the shipped spacing was chosen by looking at the folds' figures).
    """
    from meetings.intelligence.search import Ranking

    pools = pools_build(company=company, queries=queries, imported=imported, k=max(KS))
    every = list(range(len(queries)))
    cv: dict[str, dict] = {"across": {}, "within": {}}
    nested: dict[str, dict] = {"across": {}, "within": {}}
    per_fold = []
    for test_meetings in meeting_folds(meetings):
        train = [i for i in every if queries[i].meeting not in test_meetings]
        test = [i for i in every if queries[i].meeting in test_meetings]
        model = model_fit(pools, train)
        ranking = Ranking(model=model)
        spacings = {
            setting: spacing_chosen(
                company=company,
                queries=queries,
                imported=imported,
                model=model,
                train=train,
                within=setting == "within",
            )
            for setting in nested
        }
        for setting in nested:
            nested[setting].update(
                product_results(
                    company=company,
                    queries=queries,
                    imported=imported,
                    within=setting == "within",
                    ranking=Ranking(model=model, min_spacing_chars=spacings[setting]),
                    ids=test,
                )
            )
        fold = {
            setting: product_results(
                company=company,
                queries=queries,
                imported=imported,
                within=setting == "within",
                ranking=ranking,
                ids=test,
            )
            for setting in cv
        }
        for setting in cv:
            cv[setting].update(fold[setting])
        per_fold.append(
            {setting: recall(fold[setting], queries, test, 5) for setting in cv}
            | {"queries": len(test), "spacings": spacings}
        )
    ranking = Ranking(model=model_fit(pools, every))
    in_sample = {
        setting: product_results(
            company=company, queries=queries, imported=imported, within=setting == "within", ranking=ranking
        )
        for setting in cv
    }
    return cv, per_fold, in_sample, nested


# --- report ---------------------------------------------------------------------------------


def recall_row(name: str, results: dict[str, dict], queries: list[QmsumQuery], extra: str = "") -> list:
    every = list(range(len(queries)))
    return [name, *[f"{recall(results[s], queries, every, k):.3f}" for s in ("across", "within") for k in KS], extra]


def run(args: argparse.Namespace | None = None) -> str:
    keep = bool(getattr(args, "keep", False))
    meetings, queries = qmsum()  # DataMissing before any database work
    django_setup("meetpilot_eval_search")
    from django.db import connection

    from accounts.tenancy import tenant_scope
    from knowledge.embeddings import embed_query
    from knowledge.models import Chunk
    from knowledge.retrieval import counts_forget
    from meetings.intelligence.indexing import WINDOW_MAX_CHARS, WINDOW_MIN_CHARS, WINDOW_OVERLAP
    from meetings.intelligence.search import DEFAULT_RANKING, Ranking
    from tests import factories

    reuse = bool(getattr(args, "reuse", False))
    name = database_existing() if reuse else database_create()
    out: list[str] = [
        f"database {name}; {len(meetings)} meetings, {sum(len(m.turns) for m in meetings)} turns, "
        f"{len(queries)} queries"
    ]
    try:
        started = time.perf_counter()
        if reuse:
            company, imported = imported_again(meetings)
        else:
            company = factories.company_make(name="QMSum dev")
            imported = {m.meeting: meeting_import(company=company, title=m.meeting, turns=m.turns) for m in meetings}
        import_seconds = time.perf_counter() - started
        with connection.cursor() as cursor:
            cursor.execute("SELECT meetpilot_chunk_analyze()")  # ANALYZE as the owner
        counts_forget()

        # The product's windows, for the BM25-over-the-same-windows row and the window sizes.
        name_of = {imp.meeting_id: n for n, imp in imported.items()}
        product_windows = []
        with tenant_scope(company):
            stored = list(Chunk.objects.filter(source_type="transcript").order_by("source_id", "position"))
        for chunk in stored:
            imp = imported[name_of[chunk.source_id]]
            turns = [imp.turn_of_segment[int(line[0])] for line in chunk.metadata.get("lines") or []]
            product_windows.append((name_of[chunk.source_id], min(turns), max(turns), chunk.text))
        turns_per_window = statistics.mean(w[2] - w[1] + 1 for w in product_windows)

        baseline = {
            s: bm25_results(fixed_windows(meetings, BASELINE_TURNS), queries, within=s == "within")
            for s in ("across", "within")
        }
        same_windows = {s: bm25_results(product_windows, queries, within=s == "within") for s in ("across", "within")}

        embed_query(queries[0].query)  # load the model before timing anything
        timings: list[float] = []
        defaults = {
            s: product_results(
                company=company,
                queries=queries,
                imported=imported,
                within=s == "within",
                ranking=DEFAULT_RANKING,
                timings=timings,
            )
            for s in ("across", "within")
        }
        embed_times = []
        for q in queries:
            t0 = time.perf_counter()
            embed_query(q.query + " ")  # a miss in any query cache
            embed_times.append(time.perf_counter() - t0)

        _, restore = memoised_candidates()
        try:
            fused = {
                s: product_results(
                    company=company, queries=queries, imported=imported, within=s == "within", ranking=Ranking()
                )
                for s in ("across", "within")
            }
            cv, per_fold, in_sample, nested = cross_validate(
                company=company, meetings=meetings, queries=queries, imported=imported
            )
        finally:
            restore()

        header = ["", "R@5 across", "R@10 across", "R@5 within", "R@10 within", "windows"]
        rows = [
            recall_row(f"BM25, {BASELINE_TURNS}-turn windows (baseline)", baseline, queries, f"{BASELINE_TURNS} turns"),
            recall_row("BM25 over the product's windows", same_windows, queries, f"{turns_per_window:.1f} turns"),
            recall_row(
                "search(), rank fusion without the learned ranking", fused, queries, f"{turns_per_window:.1f} turns"
            ),
            recall_row(
                f"search(), learned ranking, {FOLDS}-fold cross-validated", cv, queries, f"{turns_per_window:.1f} turns"
            ),
            recall_row(
                f"search(), learned ranking, {FOLDS}-fold, hit spacing chosen on the training folds (nested)",
                nested,
                queries,
                f"{turns_per_window:.1f} turns",
            ),
            recall_row("search(), shipped weights (fitted on all dev: in-sample)", defaults, queries, ""),
            recall_row("search(), weights refitted on all dev here (in-sample)", in_sample, queries, ""),
        ]
        out.append(
            table(
                f"Meeting search on QMSum val dev ({len(queries)} queries; hit = window overlapping a "
                "gold span in the right meeting)",
                header,
                rows,
            )
        )
        out.append(
            "R@5 per fold (test queries; across / within): "
            + "; ".join(f"{f['across']:.3f} / {f['within']:.3f} ({f['queries']} q)" for f in per_fold)
            + f"; range across {min(f['across'] for f in per_fold):.3f}-{max(f['across'] for f in per_fold):.3f}"
            f", within {min(f['within'] for f in per_fold):.3f}-{max(f['within'] for f in per_fold):.3f}"
        )
        out.append(
            "hit spacing chosen on each fold's training folds (across / within, characters): "
            + "; ".join(f"{f['spacings']['across']} / {f['spacings']['within']}" for f in per_fold)
            + f"; shipped {DEFAULT_RANKING.min_spacing_chars}"
        )
        out.append(f"shipped ranking: {'learned weights' if DEFAULT_RANKING.model else 'rank fusion (no weights)'}")
        indexing = (
            "the meetings of a --keep run reused (no import)"
            if reuse
            else f"import + index of {len(meetings)} meetings {import_seconds:.0f} s, "
            f"meeting_index median {statistics.median(i.index_seconds for i in imported.values()):.2f} s"
        )
        out.append(
            f"windows: {len(product_windows)} ({WINDOW_MIN_CHARS}-{WINDOW_MAX_CHARS} chars, "
            f"overlap {WINDOW_OVERLAP}); {indexing}"
        )
        out.append(
            f"search() latency over {len(timings)} calls (k=10, question embedding included): "
            f"p50 {1000 * pct(timings, 50):.0f} ms, p95 {1000 * pct(timings, 95):.0f} ms; "
            f"question embedding alone p50 {1000 * pct(embed_times, 50):.0f} ms"
        )
    finally:
        if not keep and not reuse:  # a --reuse run leaves the database it was given
            database_drop(name)
    return "\n\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keep", action="store_true", help="keep the evaluation database")
    parser.add_argument("--reuse", action="store_true", help="use the meetings a --keep run left (no import)")
    print(run(parser.parse_args()))


if __name__ == "__main__":
    main()
