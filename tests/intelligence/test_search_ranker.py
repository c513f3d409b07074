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

from knowledge.retrieval import Candidates, ChunkHit, TermCounts
from meetings.intelligence.search import DEFAULT_RANKING, Ranking, fuse, ranking_features
from meetings.intelligence.search_model import (
    CONTEXT_WINDOWS,
    FEATURES,
    WEIGHTS_PATH,
    SearchModel,
    leading_meetings,
    model_load,
    wider_evidence,
)

SUBSET = Path(__file__).parent / "data" / "search_ranker_subset.json.gz"


@pytest.fixture(scope="module")
def subset() -> dict:
    with gzip.open(SUBSET, "rt", encoding="utf-8") as handle:
        return json.load(handle)


def _candidates(search: dict) -> Candidates:
    """The two lists in the order ``chunks_candidates`` returned them."""
    chunks = {row["chunk_id"]: ChunkHit(**row) for row in search["chunks"]}
    return Candidates(text=[chunks[i] for i in search["text"]], vector=[chunks[i] for i in search["vector"]])


def _counts(search: dict) -> TermCounts | None:
    """The word counts ``transcript_term_counts`` returned for the search (JSON keys back to numbers)."""
    counts = search["counts"]
    if counts is None:
        return None
    return TermCounts(
        idf=counts["idf"],
        windows={
            int(meeting): {int(position): tf for position, tf in windows.items()}
            for meeting, windows in counts["windows"].items()
        },
        meeting_chars={int(meeting): chars for meeting, chars in counts["meeting_chars"].items()},
    )


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
            counts=_counts(search),
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


def _window(chunk_id: int, meeting: int, position: int, rank: float = 1.0, source_type: str = "transcript") -> ChunkHit:
    return ChunkHit(
        chunk_id=chunk_id,
        source_type=source_type,
        source_id=meeting,
        document_id=None if source_type == "transcript" else 99,
        title="",
        page=None,
        text="",
        score=rank,
        start_char=0,
        end_char=0,
        metadata={"meeting_id": meeting} if source_type == "transcript" else {},
        position=position,
    )


def test_wider_evidence_reads_the_meeting_and_the_windows_around_a_candidate():
    # Meeting 1 says "budget" often, around position 10; meeting 2 once; meeting 3 was not counted.
    counts = TermCounts(
        idf={"budget": 2.0, "remot": 0.5},
        windows={
            1: {9: {"budget": 1}, 10: {"remot": 1}, 11: {"budget": 2}, 30: {"budget": 1}},
            2: {4: {"budget": 1}},
        },
        meeting_chars={1: 1000, 2: 1000},
    )
    near, far = _window(1, 1, 10), _window(2, 1, 10 + CONTEXT_WINDOWS + 2)
    other, uncounted, document = _window(3, 2, 4), _window(4, 3, 0), _window(5, 0, 0, source_type="document")
    evidence = wider_evidence(counts, [near, far, other, uncounted, document], topic=["budge", "remot"])
    meeting, context, said = ({cid: value[i] for cid, value in evidence.items()} for i in (0, 1, 2))
    assert meeting[1] == meeting[2] == pytest.approx(np.log(1.001))  # the best meeting
    assert meeting[4] < meeting[3] < meeting[1]  # not counted: the least evidence
    assert meeting[5] == meeting[1]  # a document counts as the best meeting
    # The stretch around position 10 holds the words of positions 9-11: the best context.
    assert context[1] == 1.0
    assert 0.0 < context[3] < context[1]  # one "budget" around meeting 2's position 4
    assert context[2] == 0.0  # positions 12-16 say nothing (30 is further still)
    assert context[4] == context[5] == 0.0  # meeting 3 not counted; a document has no windows around it
    # The topic words the meeting says, weighted by idf: meeting 1 says both, meeting 2 "budget" (2 of 2.5).
    assert said[1] == said[2] == 1.0
    assert said[3] == pytest.approx(0.8)
    assert said[4] == 0.0 and said[5] == 1.0  # not counted: nothing said; a document counts as the best meeting
    # A counted word that is not a topic word (a name, the frame of the question) is not asked for.
    only_budget = wider_evidence(counts, [near, other], topic=["budge"])
    assert only_budget[other.chunk_id][2] == 1.0


def test_leading_meetings_follow_the_best_places_in_either_list():
    lists = Candidates(
        text=[_window(1, 7, 0), _window(2, 8, 0), _window(3, 7, 1)],
        vector=[_window(4, 9, 0), _window(5, 8, 1)],
    )
    assert leading_meetings(lists) == [7, 9, 8]  # 7 and 9 first in a list (ties by id), 8 second
    assert leading_meetings(lists, n=1) == [7]
