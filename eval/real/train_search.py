"""Train the learned ranking of meeting search (``meetings/intelligence/search_ranker.json``).

    python -m eval.real.train_search            # also run by: make train
    python -m eval.real.train_search --reuse    # the meetings a ``python -m eval.real.search --keep`` run left

The 35 QMSum val dev meetings are imported and indexed through the product's services (as in
``eval/real/search.py``); each query's candidates are the ones ``search()`` fetches
(``search_candidates``), their features the ones it scores (``ranking_features``). A candidate is
positive when it is a window of the query's meeting overlapping a gold span. One pairwise logistic
regression (scikit-learn, here only) is fitted on the searches across all meetings, one on those
within the query's meeting; the weights go to the JSON file the product
loads with numpy. ``eval/real/search.py`` fits the same way on four meeting-level folds and scores
the fifth, which is the figure reported; the weights shipped are fitted on all 35 meetings.

A small fixed subset of the queries' candidates is written next to the tests with the recall the
shipped weights reach on it, so a test notices when the weights or the features drift.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))

from eval.real.data import QmsumQuery, qmsum

SETTINGS = ("across", "within")
REGULARISATION = 1.0  # scikit-learn's C
REPOSITORY = Path(__file__).resolve().parent.parent.parent
FIXTURE = REPOSITORY / "tests" / "intelligence" / "data" / "search_ranker_subset.json.gz"
FIXTURE_QUERIES = 12  # every 15th query: the subset the drift test scores
ATTRIBUTION = "Trained on QMSum (Zhong et al., NAACL 2021) validation split, 35 meetings; MIT licence."


@dataclass
class Pool:
    """One search's candidates, their features and whether each is the moment asked about."""

    candidates: object  # knowledge.retrieval.Candidates
    chunks: list
    features: np.ndarray
    labels: np.ndarray
    counts: object = None  # knowledge.retrieval.TermCounts (across meetings)


def gold(chunk, query: QmsumQuery, meeting_id: int, turn_of_segment: dict[int, int]) -> bool:
    if chunk.source_type != "transcript" or int(chunk.metadata.get("meeting_id") or -1) != meeting_id:
        return False
    turns = [
        turn_of_segment[int(line[0])] for line in chunk.metadata.get("lines") or [] if int(line[0]) in turn_of_segment
    ]
    if not turns:
        return False
    first, last = min(turns), max(turns)
    return any(first <= b and a <= last for a, b in query.spans)


def pools_build(*, company, queries: list[QmsumQuery], imported: dict, k: int = 10) -> dict[str, dict[int, Pool]]:
    """Per setting ("across" all meetings, "within" the query's meeting) and query: its candidate pool."""
    from accounts.tenancy import tenant_scope
    from meetings.intelligence.search import SearchFilters, meeting_counts, ranking_features, search_candidates

    out: dict[str, dict[int, Pool]] = {s: {} for s in SETTINGS}
    with tenant_scope(company):
        for qi, query in enumerate(queries):
            imp = imported[query.meeting]
            for setting in SETTINGS:
                filters = SearchFilters(meeting_id=imp.meeting_id) if setting == "within" else None
                candidates = search_candidates(company=company, query=query.query, filters=filters, k=k)
                counts = (
                    meeting_counts(company=company, query=query.query, candidates=candidates)
                    if setting == "across"
                    else None
                )
                chunks, features = ranking_features(candidates, query=query.query, counts=counts)
                labels = np.array([gold(c, query, imp.meeting_id, imp.turn_of_segment) for c in chunks], dtype=bool)
                out[setting][qi] = Pool(
                    candidates=candidates, chunks=chunks, features=features, labels=labels, counts=counts
                )
    return out


def _fit_pairs(pools: list[Pool], mean: np.ndarray, scale: np.ndarray) -> tuple[float, ...]:
    """Pairwise logistic regression: each right window against each wrong one of the same search.

    Each search weighs the same however many pairs it has; without any pair the weights are zero
    (every candidate ties and the fused order stands).
    """
    from sklearn.linear_model import LogisticRegression

    differences, weights = [], []
    for pool in pools:
        if not pool.labels.any() or pool.labels.all():
            continue
        standard = (pool.features - mean) / scale
        pairs = (standard[pool.labels][:, None, :] - standard[~pool.labels][None, :, :]).reshape(-1, len(mean))
        differences.append(pairs)
        weights.append(np.full(len(pairs), 1.0 / len(pairs)))
    if not differences:
        return (0.0,) * (len(mean) + 1)
    pairs, weight = np.vstack(differences), np.concatenate(weights) * len(differences)
    both_ways = np.vstack([pairs, -pairs])
    right_first = np.r_[np.ones(len(pairs)), np.zeros(len(pairs))]
    fitted = LogisticRegression(C=REGULARISATION, max_iter=5000, fit_intercept=False).fit(
        both_ways, right_first, sample_weight=np.r_[weight, weight]
    )
    return (*(float(w) for w in fitted.coef_[0]), 0.0)


def model_fit(pools: dict[str, dict[int, Pool]], ids: list[int]):
    """The weights, fitted on the searches of the queries ``ids``."""
    from meetings.intelligence.search_model import FEATURES, SearchModel

    every = np.vstack([pools[s][i].features for s in SETTINGS for i in ids if len(pools[s][i].chunks)])
    mean = every.mean(axis=0)
    scale = every.std(axis=0)
    scale[scale < 1e-9] = 1.0
    weights = {setting: _fit_pairs([pools[setting][i] for i in ids], mean, scale) for setting in SETTINGS}
    return SearchModel(
        features=FEATURES,
        mean=tuple(map(float, mean)),
        scale=tuple(map(float, scale)),
        across=weights["across"],
        within=weights["within"],
    )


def fixture_write(pools: dict[str, dict[int, Pool]], queries: list[QmsumQuery], model, path: Path = FIXTURE) -> dict:
    """The candidates of a fixed subset of queries and the shipped weights' recall@5 on them."""
    ids = list(range(0, len(queries), max(1, len(queries) // FIXTURE_QUERIES)))[:FIXTURE_QUERIES]
    searches = []
    for setting in SETTINGS:
        for qi in ids:
            pool = pools[setting][qi]
            order = np.argsort(-model.logits(pool.features, one_meeting=setting == "within"), kind="stable")
            searches.append(
                {
                    "setting": setting,
                    "query": queries[qi].query,
                    # What the features read (the lines' times and the chunk titles are left out: size).
                    "chunks": [
                        {
                            **asdict(c),
                            "access_level": str(c.access_level),
                            "title": "",
                            "metadata": {k: c.metadata.get(k) for k in ("meeting_id", "speakers")},
                        }
                        for c in pool.chunks
                    ],
                    # The question's words in the leading meetings (the wider evidence), JSON keys as strings.
                    "counts": asdict(pool.counts) if pool.counts is not None else None,
                    "text": [c.chunk_id for c in pool.candidates.text],
                    "vector": [c.chunk_id for c in pool.candidates.vector],
                    "positives": [c.chunk_id for c, gold_ in zip(pool.chunks, pool.labels, strict=True) if gold_],
                    "top5": [pool.chunks[i].chunk_id for i in order[:5]],
                }
            )
    recall = sum(bool(set(s["top5"]) & set(s["positives"])) for s in searches) / len(searches)
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        json.dump({"attribution": ATTRIBUTION, "recall_at_5": recall, "searches": searches}, handle)
    return {"queries": len(ids), "searches": len(searches), "recall_at_5": round(recall, 3)}


def run(args: argparse.Namespace | None = None) -> str:
    from eval.real.meetings_db import (
        database_create,
        database_drop,
        database_existing,
        django_setup,
        imported_again,
    )
    from eval.real.meetings_db import meeting_import as import_one

    meetings, queries = qmsum()
    django_setup("meetpilot_eval_search")
    from django.db import connection

    from knowledge.retrieval import counts_forget
    from meetings.intelligence.search_model import WEIGHTS_PATH
    from tests import factories

    reuse = bool(getattr(args, "reuse", False))
    name = database_existing() if reuse else database_create()
    try:
        if reuse:
            company, imported = imported_again(meetings)
        else:
            company = factories.company_make(name="QMSum dev")
            imported = {m.meeting: import_one(company=company, title=m.meeting, turns=m.turns) for m in meetings}
        with connection.cursor() as cursor:
            cursor.execute("SELECT meetpilot_chunk_analyze()")
        counts_forget()
        pools = pools_build(company=company, queries=queries, imported=imported)
        model = model_fit(pools, list(range(len(queries))))
        WEIGHTS_PATH.write_text(
            json.dumps({"about": ATTRIBUTION, "regularisation": REGULARISATION, "model": model.as_json()}, indent=1)
            + "\n"
        )
        subset = fixture_write(pools, queries, model)
    finally:
        if not getattr(args, "keep", False) and not reuse:
            database_drop(name)
    return f"weights: {WEIGHTS_PATH} ({len(queries)} queries); drift-test subset: {subset}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", action="store_true", help="use the meetings a --keep run left (no import)")
    print(run(parser.parse_args()))


if __name__ == "__main__":
    main()
