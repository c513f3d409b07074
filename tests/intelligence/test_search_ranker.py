"""The committed learned ranking of meeting search reproduces its figure on a fixed subset of real searches.

The subset (tests/intelligence/data/search_ranker_subset.json.gz) holds the candidates ``search()``
fetched for 12 QMSum val dev questions (QMSum, Zhong et al. 2021, MIT licence), across all meetings
and within the question's meeting, as ``python -m eval.real.train_search`` wrote it with the
weights. Changing the weights or the features without retraining changes the order here.
"""

import gzip
import json
from pathlib import Path

import numpy as np
import pytest

from knowledge.retrieval import Candidates, ChunkHit
from meetings.intelligence.search import DEFAULT_RANKING, Ranking, fuse, ranking_features
from meetings.intelligence.search_model import FEATURES, WEIGHTS_PATH, SearchModel, model_load

SUBSET = Path(__file__).parent / "data" / "search_ranker_subset.json.gz"


@pytest.fixture(scope="module")
def subset() -> dict:
    with gzip.open(SUBSET, "rt", encoding="utf-8") as handle:
        return json.load(handle)


def _candidates(search: dict) -> Candidates:
    """The two lists in the order ``chunks_candidates`` returned them."""
    chunks = {row["chunk_id"]: ChunkHit(**row) for row in search["chunks"]}
    return Candidates(text=[chunks[i] for i in search["text"]], vector=[chunks[i] for i in search["vector"]])


def test_the_committed_weights_load_and_ship():
    model = model_load()
    assert model is not None and model.features == FEATURES
    assert DEFAULT_RANKING.model == model
    assert len(model.across) == len(model.within) == len(FEATURES) + 1
    data = json.loads(WEIGHTS_PATH.read_text())
    assert "QMSum" in data["about"]


def test_the_learned_ranking_reproduces_its_figure_on_the_subset(subset):
    hits, orders_kept = 0, 0
    for search in subset["searches"]:
        ranked = fuse(
            _candidates(search),
            query=search["query"],
            ranking=DEFAULT_RANKING,
            one_meeting=search["setting"] == "within",
        )
        top5 = [chunk.chunk_id for chunk, _ in ranked[:5]]
        hits += bool(set(top5) & set(search["positives"]))
        orders_kept += top5 == search["top5"]
    assert hits / len(subset["searches"]) == pytest.approx(subset["recall_at_5"], abs=0.05)
    assert orders_kept >= 0.9 * len(subset["searches"])


def test_features_of_a_speaker_question():
    def window(chunk_id, meeting, segments, text, rank):
        return ChunkHit(
            chunk_id=chunk_id,
            source_type="transcript",
            source_id=meeting,
            document_id=None,
            title="",
            page=None,
            text=text,
            score=10.0 - rank,
            start_char=0,
            end_char=0,
            metadata={
                "meeting_id": meeting,
                "speakers": sorted({r.split(": ")[0] for r in text.split("\n")}),
                "segment_ids": segments,
            },
            similarity=0.5,
            text_rank=10.0 - rank,
        )

    a = window(1, 1, [1, 2], "Sam Patel: keep the pricing\nJo Park: fine", 0)
    b = window(2, 1, [2, 3], "Jo Park: the pricing page", 1)
    other = window(3, 2, [9], "Riley Chen: lunch", 2)
    chunks, rows = ranking_features(
        Candidates(text=[a, b, other], vector=[other]), query="What did Sam say about pricing?"
    )
    column = {name: rows[:, i] for i, name in enumerate(FEATURES)}
    assert [c.chunk_id for c in chunks] == [1, 2, 3]
    assert column["log_speaker"].tolist() == pytest.approx([np.log(2.0), 0.0, 0.0])  # half of window 1 is Sam's
    assert column["coverage"].tolist() == [1.0, 1.0, 0.0]  # "pricing"; "Sam" is a speaker, not the topic
    # RRF: window 1 first in BM25 (1/11), window 3 third in BM25 and first in the vector list.
    assert np.exp(column["log_rrf"]).tolist() == pytest.approx([11 / 22, 11 / 24, (1 / 13 + 1 / 11) * 11 / 2])
    # Meeting 1's three best fused scores against meeting 2's only one.
    assert column["log_meeting_evidence"][0] == column["log_meeting_evidence"][1]
    assert column["log_meeting_evidence"][2] < column["log_meeting_evidence"][0]
    model = SearchModel(
        features=FEATURES,
        mean=(0.0,) * len(FEATURES),
        scale=(1.0,) * len(FEATURES),
        across=(*(float(n == "log_speaker") for n in FEATURES), 0.0),
        within=(0.0,) * (len(FEATURES) + 1),
    )
    assert (
        fuse(Candidates(text=[b, a], vector=[]), query="What did Sam say about pricing?", ranking=Ranking(model=model))[
            0
        ][0].chunk_id
        == 1
    )
    assert np.isclose(model.logits(rows, one_meeting=True), 0.0).all()  # within: its own (here zero) weights
