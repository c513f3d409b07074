"""Meetings as chunks, and search across meetings and documents with filters."""

from collections import Counter
from dataclasses import replace
from datetime import datetime
from itertools import pairwise

import numpy as np
import pytest
from django.utils import timezone

from accounts.tenancy import tenant_scope
from knowledge.models import Chunk
from knowledge.retrieval import Candidates, ChunkHit, transcript_term_counts
from meetings.analysis.disfluency import without_fillers
from meetings.intelligence.indexing import (
    WINDOW_MAX_CHARS,
    WINDOW_MIN_CHARS,
    meeting_index,
    transcript_windows,
)
from meetings.intelligence.search import (
    DEFAULT_RANKING,
    Ranking,
    SearchFilters,
    asked_part,
    fuse,
    query_topic,
    search,
    search_candidates,
    speakers_mentioned,
)
from meetings.models import ActionItem, Meeting, TranscriptSegment
from tests.intelligence.factories import scripted_meeting_make
from tests.knowledge.factories import document_ingested
from tests.meetings.factories import action_item_make, decision_make, report_make

pytestmark = pytest.mark.django_db

HIRING = [
    {
        "speaker": "Alice Admin",
        "text": "Let's talk about hiring. We need two backend engineers before October.",
        "start": 0.0,
        "end": 6.0,
    },
    {
        "speaker": "Bob Builder",
        "text": "Recruiting has three candidates for the data engineering role.",
        "start": 6.5,
        "end": 11.0,
    },
    {
        "speaker": "Alice Admin",
        "text": "Bob, please schedule the onsite interviews for next week.",
        "start": 11.5,
        "end": 15.0,
    },
]


def _aware(day: str) -> datetime:
    return timezone.make_aware(datetime.fromisoformat(day + "T10:00:00"))


@pytest.fixture
def indexed(company, other_company):
    sales = scripted_meeting_make(company=company, platform=Meeting.Platform.ZOOM, started_at=_aware("2025-05-22"))
    hiring = scripted_meeting_make(
        company=company,
        title="Hiring sync",
        platform=Meeting.Platform.GOOGLE_MEET,
        started_at=_aware("2025-06-10"),
        utterances=HIRING,
        participants=[{"name": "Alice Admin"}, {"name": "Bob Builder"}],
    )
    report_make(meeting=sales, short_summary="Initech wants a 60 day pilot; pricing is 45 dollars per seat.")
    decision_make(meeting=sales, text="Go with a 60 day pilot for the finance team first")
    action_item_make(
        meeting=sales, description="Send the revised proposal with the pilot terms", assignee_name="Dana Whitfield"
    )
    theirs = scripted_meeting_make(company=other_company, title="Globex copy of the sales call")
    for meeting in (sales, hiring, theirs):
        with tenant_scope(meeting.company_id):
            meeting_index(company=meeting.company, meeting=meeting)
    document_ingested(
        company=company,
        title="Security whitepaper",
        text="All customer data is encrypted at rest with AES-256. Backups are kept for 35 days.",
    )
    return {"sales": sales, "hiring": hiring, "theirs": theirs}


def test_meeting_chunks_have_windows_and_metadata(indexed, company):
    sales = indexed["sales"]
    with tenant_scope(company):
        chunks = list(Chunk.objects.filter(source_id=sales.pk).exclude(source_type="document"))
    types = {c.source_type for c in chunks}
    assert types == {"transcript", "summary", "decision", "action_item"}
    transcript = sorted((c for c in chunks if c.source_type == "transcript"), key=lambda c: c.position)
    assert len(transcript) >= 3
    for chunk in transcript[:-1]:
        assert WINDOW_MIN_CHARS <= len(chunk.text) + 1 <= WINDOW_MAX_CHARS, len(chunk.text)
    meta = transcript[1].metadata
    assert meta["meeting_id"] == sales.pk and meta["meeting_date"] == "2025-05-22" and meta["platform"] == "zoom"
    assert set(meta["participants"]) == {"Dana Whitfield", "Sam Patel", "Morgan Lee", "Riley Chen"}
    assert meta["speakers"] and meta["segment_ids"] and meta["end_time"] > meta["start_time"]
    # Consecutive windows cover the transcript in order and overlap: each starts inside the previous one,
    # at a turn boundary, so every segment is in one or two windows.
    with tenant_scope(company):
        every = list(TranscriptSegment.objects.filter(meeting=sales).order_by("sequence").values_list("pk", flat=True))
    windows = [c.metadata["segment_ids"] for c in transcript]
    assert all(w == sorted(w) for w in windows)
    for before, after in pairwise(windows):
        assert before[0] < after[0] <= before[-1] < after[-1]
    covered = Counter(i for w in windows for i in w)
    assert set(covered) == set(every) and max(covered.values()) <= 2
    assert transcript[0].created_at.date().isoformat() == "2025-05-22"


def test_word_counts_of_whole_meetings_are_the_companys_own(indexed, company, other_company):
    sales, hiring, theirs = indexed["sales"], indexed["hiring"], indexed["theirs"]
    with tenant_scope(company):
        # A title is in every window of its meeting: what was said counts, the title does not.
        Meeting.objects.filter(pk=hiring.pk).update(title="Pilot pricing hiring sync")
        hiring.refresh_from_db()
        meeting_index(company=company, meeting=hiring)
        assert Chunk.objects.filter(source_id=hiring.pk, source_type="transcript", title__icontains="pilot").exists()
        counts = transcript_term_counts(
            company=company, query="What about the pilot pricing?", meeting_ids=[sales.pk, hiring.pk, theirs.pk]
        )
        transcript = {
            (c.source_id, c.position): c.text.lower()
            for c in Chunk.objects.filter(source_type="transcript", source_id__in=[sales.pk, hiring.pk])
        }
    assert set(counts.idf) == {"pilot", "price"} and all(v > 0 for v in counts.idf.values())
    # The other company's copy of the sales call is neither counted nor measured.
    assert set(counts.windows) == {sales.pk} and set(counts.meeting_chars) == {sales.pk, hiring.pk}
    assert counts.meeting_chars[sales.pk] == sum(len(t) for (m, _), t in transcript.items() if m == sales.pk)
    for position, tf in counts.windows[sales.pk].items():
        text = transcript[(sales.pk, position)]
        assert tf.get("pilot", 0) == text.count("pilot")
        assert set(tf) <= {"pilot", "price"}
    with tenant_scope(other_company):
        assert (
            transcript_term_counts(company=other_company, query="pilot pricing", meeting_ids=[sales.pk]).meeting_chars
            == {}
        )


def test_reindexing_replaces_chunks(indexed, company):
    sales = indexed["sales"]
    with tenant_scope(company):
        before = Chunk.objects.filter(source_id=sales.pk, source_type="action_item").count()
        ActionItem.objects.filter(meeting=sales).delete()
        meeting_index(company=company, meeting=sales)
        assert Chunk.objects.filter(source_id=sales.pk, source_type="action_item").count() == before - 1
        total = Chunk.objects.filter(source_id=sales.pk).count()
        meeting_index(company=company, meeting=sales)
        assert Chunk.objects.filter(source_id=sales.pk).count() == total


def test_long_monologue_is_split_into_windows():
    from meetings.intelligence.indexing import _Line

    line = _Line(segment_id=1, speaker="Dana", start=0.0, end=300.0, text="We talked about pricing. " * 120)
    windows = transcript_windows([line])
    assert len(windows) >= 3
    assert all(sum(len(p.text) for p in w) <= 1000 for w in windows)
    assert windows[-1][-1].end == pytest.approx(300.0, abs=1)


def test_search_links_to_the_moment_and_covers_documents(indexed, company):
    with tenant_scope(company):
        hits = search(company=company, query="Is our data encrypted at rest?", k=10)
    transcript = [h for h in hits if h.source_type == "transcript"]
    assert transcript and transcript[0].meeting_id == indexed["sales"].pk
    first = transcript[0]
    assert first.url == f"/meetings/{first.meeting_id}/?t={int(first.start_time)}#segment-{first.segment_id}"
    with tenant_scope(company):  # the link opens the line that matched, not just the start of the window
        segment = TranscriptSegment.objects.get(pk=first.segment_id)
    assert "encrypted" in segment.text and segment.start_time == pytest.approx(first.start_time)
    assert any(h.source_type == "document" and h.title == "Security whitepaper" for h in hits)
    assert all(h.meeting_id != indexed["theirs"].pk for h in hits)
    assert "<mark>" in first.snippet_html.lower()


def test_search_filters(indexed, company):
    sales, hiring = indexed["sales"], indexed["hiring"]

    def meetings_found(**filters):
        with tenant_scope(company):
            hits = search(
                company=company, query="candidates pilot pricing interviews", k=20, filters=SearchFilters(**filters)
            )
        return {h.meeting_id for h in hits}, {h.source_type for h in hits}

    found, _ = meetings_found()
    assert {sales.pk, hiring.pk} <= found
    assert meetings_found(participant="bob")[0] == {hiring.pk}
    assert meetings_found(participant="riley.chen@initech.test")[0] == {sales.pk}
    assert meetings_found(platform="google_meet")[0] == {hiring.pk}
    from datetime import date

    assert meetings_found(date_from=date(2025, 6, 1))[0] == {hiring.pk}
    assert meetings_found(date_to=date(2025, 5, 31))[0] == {sales.pk}
    assert meetings_found(date_from=date(2025, 7, 1))[0] == set()
    found, types = meetings_found(source_types=["decision"])
    assert found == {sales.pk} and types == {"decision"}
    # Meeting filters leave documents out.
    assert "document" not in meetings_found(platform="zoom")[1]


def test_search_api(indexed, admin, member, outsider):
    response = member.api().get("/api/v1/meetings/search", {"q": "sixty day pilot finance", "source_type": "decision"})
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["count"] >= 1 and all(h["source_type"] == "decision" for h in data["hits"])
    assert data["hits"][0]["meeting_id"] == indexed["sales"].pk
    filtered = member.api().get(
        "/api/v1/meetings/search",
        {"q": "interviews", "participant": "Bob", "date_from": "2025-06-01", "platform": "google_meet"},
    )
    assert {h["meeting_id"] for h in filtered.json()["hits"]} == {indexed["hiring"].pk}
    bad = member.api().get("/api/v1/meetings/search", {"q": "x", "source_type": "tweets"})
    assert bad.status_code == 422
    # The other company finds only its own copy of the same words.
    theirs = outsider.api().get("/api/v1/meetings/search", {"q": "Is our data encrypted at rest?"}).json()
    assert theirs["count"] >= 1
    assert {h["meeting_id"] for h in theirs["hits"]} == {indexed["theirs"].pk}
    assert all(h["source_type"] != "document" for h in theirs["hits"])


def test_search_page(indexed, member, outsider):
    page = member.browser().get("/search/", {"q": "encrypted at rest", "type": ["transcript"]})
    assert page.status_code == 200
    assert f"/meetings/{indexed['sales'].pk}/?t=".encode() in page.content
    fragment = member.browser().get("/search/", {"q": "encrypted"}, HTTP_HX_REQUEST="true")
    assert b"<html" not in fragment.content and b"search-results" in fragment.content
    empty = member.browser().get("/search/")
    assert b"Search everything that was said" in empty.content
    assert (
        f"/meetings/{indexed['sales'].pk}/".encode()
        not in outsider.browser().get("/search/", {"q": "encrypted at rest"}).content
    )


# --- ranking on spoken transcripts -----------------------------------------------------------------------------


def _turns(rows: list[tuple[str, str]]) -> list[dict]:
    out, clock = [], 0.0
    for speaker, text in rows:
        out.append({"speaker": speaker, "text": text, "start": clock, "end": clock + 4.0})
        clock += 4.5
    return out


def _spoken_meeting(company, title: str, rows: list[tuple[str, str]]) -> Meeting:
    """A meeting of ``rows`` (speaker, line), its participants the speakers in order of first word."""
    return scripted_meeting_make(
        company=company,
        title=title,
        utterances=_turns(rows),
        participants=[{"name": n} for n in dict.fromkeys(who for who, _ in rows)],
    )


_SMALL_TALK = [
    ("Alex Kim", "Okay, the next point on the agenda is the office move and the new desks for the second floor."),
    ("Jo Park", "The movers come on Thursday morning, so please pack your things on Wednesday afternoon."),
    ("Alex Kim", "Facilities will label the boxes and the new badge readers work from Monday on."),
    ("Jo Park", "Parking stays the same, but the bike room moves next to the loading dock downstairs."),
    ("Alex Kim", "Any questions about the move? No? Good, then let us talk about the quarterly offsite."),
    ("Jo Park", "The offsite is in the mountains this year, we booked the lodge for three nights in May."),
]


def test_disfluent_transcript_finds_the_moment(company):
    rows = [
        *_SMALL_TALK,
        (
            "Dana Lee",
            "Um {disfmarker} so the uh the warehouse {vocalsound} migration, um, it it starts on the "
            "fourteenth, uh, of March {disfmarker} I mean, um, the cutover weekend.",
        ),
        ("Chris Wu", "Mm-hmm. Uh-huh. {vocalsound}"),
        *_SMALL_TALK,
    ]
    meeting = _spoken_meeting(company, "Ops weekly", rows)
    with tenant_scope(company):
        meeting_index(company=company, meeting=meeting)
        chunks = list(Chunk.objects.filter(source_type="transcript", source_id=meeting.pk))
        stored = TranscriptSegment.objects.get(meeting=meeting, text__contains="warehouse")
        hits = search(company=company, query="when does the warehouse migration start", k=3)
    # Indexed: what was said. Stored: what was transcribed.
    assert all("{" not in c.text and " um" not in c.text.lower() and " uh " not in c.text.lower() for c in chunks)
    assert any("the warehouse migration, it starts on the fourteenth" in c.text for c in chunks)
    assert not any("Chris Wu" in c.text for c in chunks)  # a turn of nothing but fillers is not indexed
    assert "{disfmarker}" in stored.text and "Um" in stored.text
    assert hits and hits[0].meeting_id == meeting.pk
    assert hits[0].segment_id == stored.pk  # the link opens the line that said it


def test_without_fillers_keeps_words_that_look_like_fillers():
    assert without_fillers("Hmm, the umbrella and the humdrum {gap} er, erm") == "the umbrella and the humdrum"
    assert without_fillers("I I I think the the uh price is right") == "I think the price is right"
    assert without_fillers("Um. {vocalsound}") == ""


def test_speaker_aware_query_prefers_the_speakers_window(company):
    riley = [
        (
            "Riley Chen",
            "Pricing is my worry: the pricing page shows the old pricing for the annual plan and "
            "the pricing calculator still rounds the seat price down.",
        ),
        ("Riley Chen", "If we change pricing again this quarter, sales needs new pricing sheets by Friday."),
    ]
    sam = [
        ("Sam Patel", "On pricing I think we should keep the current price and offer a discount for two years."),
        ("Sam Patel", "A discount is easier to explain to customers than a new price list, in my view."),
    ]
    rows = [*_SMALL_TALK, *riley, *_SMALL_TALK, *sam, *_SMALL_TALK]
    meeting = _spoken_meeting(company, "Pricing review", rows)
    with tenant_scope(company):
        meeting_index(company=company, meeting=meeting)
        deaf = replace(DEFAULT_RANKING, speaker_boost=0.0)  # the same ranking without the speaker feature
        plain = search(company=company, query="What did Sam say about pricing?", k=3, ranking=deaf)
        aware = search(company=company, query="What did Sam say about pricing?", k=3)
        about = search(company=company, query="what was said about pricing", k=3)
        about_deaf = search(company=company, query="what was said about pricing", k=3, ranking=deaf)
    assert "Sam Patel" in aware[0].speakers and aware[0].speakers[0] == "Sam Patel"
    assert aware[0].score > plain[0].score  # the lift
    # No name in the question: nothing is lifted.
    assert [(h.chunk_id, h.score) for h in about] == [(h.chunk_id, h.score) for h in about_deaf]


def _candidate(chunk_id: int, rows: list[tuple[str, str]]) -> ChunkHit:
    return ChunkHit(
        chunk_id=chunk_id,
        source_type="transcript",
        source_id=1,
        document_id=None,
        title="",
        page=None,
        text="\n".join(f"{who}: {what}" for who, what in rows),
        score=0.0,
        start_char=0,
        end_char=0,
        metadata={"meeting_id": 1, "speakers": sorted({who for who, _ in rows})},
        similarity=0.5,
    )


def test_fusion_lifts_the_named_speakers_window():
    riley = _candidate(1, [("Riley Chen", "pricing pricing pricing"), ("Jo Park", "yes")])
    mixed = _candidate(2, [("Sam Patel", "pricing"), ("Jo Park", "right"), ("Riley Chen", "ok")])
    sam = _candidate(3, [("Sam Patel", "the price is fine"), ("Sam Patel", "keep the pricing")])
    lists = Candidates(text=[riley, mixed, sam], vector=[riley, sam, mixed])
    question = "What did Sam say about pricing?"
    plain = Ranking(text_weight=2.0, rrf_k=60, speaker_boost=0.0)
    assert [c.chunk_id for c, _ in fuse(lists, query=question, ranking=plain)] == [1, 2, 3]
    lifted = fuse(lists, query=question, ranking=Ranking(text_weight=2.0, rrf_k=60, speaker_boost=1.0))
    # All of window 3 is Sam's (score doubled), a third of window 2 (x 4/3), none of window 1.
    assert [c.chunk_id for c, _ in lifted] == [3, 2, 1]
    assert lifted[2][1] == pytest.approx(1.0)  # first in both lists and no lift: 1.0


def test_speakers_mentioned():
    speakers = {"Grad C", "PhD A", "Professor B", "Marketing", "Project Manager", "Sam Patel", "Lynne Neagle AM"}
    assert speakers_mentioned("What did C think about the recording equipment?", speakers) == {"Grad C"}
    assert speakers_mentioned("What did the Professor say about results?", speakers) == {"Professor B"}
    assert speakers_mentioned("What did Marketing think of the remote?", speakers) == {"Marketing"}
    assert speakers_mentioned("what did the project manager decide", speakers) == {"Project Manager"}
    assert speakers_mentioned("what did Sam's team ship", speakers) == {"Sam Patel"}
    assert speakers_mentioned("Lynne Neagle's view on schools", speakers) == {"Lynne Neagle AM"}
    # Lower-case words, a sentence-initial letter and titles are not names.
    assert speakers_mentioned("the marketing budget for the remote", speakers) == set()
    assert speakers_mentioned("A summary of the AM session", speakers) == set()


def test_a_meeting_is_searchable_as_soon_as_its_report_is_done(company, no_enqueue):
    """No index task waits in a queue between "done" and searchable: the report pipeline indexes first."""
    from meetings.intelligence.pipeline import report_generate

    hiring = scripted_meeting_make(
        company=company,
        title="Hiring sync",
        utterances=HIRING,
        participants=[{"name": "Alice Admin"}, {"name": "Bob Builder"}],
    )
    with tenant_scope(company):
        assert not search(company=company, query="onsite interviews for the data engineering role")
        report = report_generate(company=company, meeting=hiring)
        assert report.status == "done"
        hits = search(company=company, query="onsite interviews for the data engineering role")
    assert hits and hits[0].meeting_id == hiring.pk
    assert not [c for c in no_enqueue if c.get("index")]  # nothing left to a queued index task


def test_query_topic_drops_the_frame_of_the_question():
    assert (
        query_topic("What did C think about setting up the recording equipment?")
        == "What did about setting up the recording equipment"
    )
    assert query_topic("Summarize the discussion about the remote's battery") == "the about the remote's battery"
    assert query_topic("What did the group discuss?") == "What did the group discuss?"  # nothing left: unchanged


def test_asked_part_drops_the_clause_that_says_where_in_the_meeting():
    assert (
        asked_part("Why did Marketing disagree with the PM when talking about the touch screen?")
        == "Why did Marketing disagree with the PM"
    )
    assert (
        asked_part("What did Sam say about pricing, while discussing the renewal?") == "What did Sam say about pricing"
    )
    # "when" that is what is asked, a leading clause, or too little left: the question stays whole.
    assert asked_part("What did they say about when to launch?") == "What did they say about when to launch?"
    assert asked_part("When discussing pricing, what did Sam say?") == "When discussing pricing, what did Sam say?"
    assert asked_part("Pricing when discussing renewals") == "Pricing when discussing renewals"


def test_the_vector_list_reads_what_is_asked_and_the_text_list_the_whole_question(company):
    rows = [
        *_SMALL_TALK,
        ("Dana Lee", "For the renewal we agreed to keep the contract length at two years with the same terms."),
        ("Chris Wu", "On the warehouse: the forklift batteries are failing and we need new chargers next month."),
        *_SMALL_TALK,
    ]
    meeting = _spoken_meeting(company, "Ops weekly", rows)
    question = "What did Chris say about the forklift batteries when discussing the contract renewal?"
    with tenant_scope(company):
        meeting_index(company=company, meeting=meeting)
        whole = search_candidates(company=company, query=question)
        asked = search_candidates(company=company, query="What did Chris say about the forklift batteries")
        renewal = search_candidates(company=company, query=question.replace("forklift batteries", "budget"))
    similarities = [(c.chunk_id, round(c.similarity, 6)) for c in whole.vector]
    assert similarities == [(c.chunk_id, round(c.similarity, 6)) for c in asked.vector]
    assert similarities != [(c.chunk_id, round(c.similarity, 6)) for c in renewal.vector]
    # The BM25 list still reads the setting: the renewal window is a text candidate.
    assert any("renewal" in c.text for c in whole.text)


def test_windows_are_embedded_from_blocks_each_text_once(monkeypatch):
    from knowledge import services as knowledge_services
    from meetings.intelligence import indexing

    lines = [indexing._Line(i, f"Speaker {i % 3}", float(i), i + 0.5, f"sentence number {i} " * 8) for i in range(60)]
    embedded: list[str] = []
    returned: list[np.ndarray] = []

    def fake_embed(texts):
        embedded.extend(texts)
        vectors = np.random.default_rng(len(embedded)).normal(size=(len(texts), 8)).astype(np.float32)
        returned.append(vectors / np.linalg.norm(vectors, axis=1, keepdims=True))
        return returned[-1]

    monkeypatch.setattr(knowledge_services, "embed_texts", fake_embed)
    pieces, ranges = indexing._window_ranges(lines)
    vectors = indexing.window_embeddings(pieces, ranges, title="Weekly")
    assert len(ranges) > 3 and vectors.shape == (len(ranges), 8)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # Every line is in one or two windows but is embedded exactly once.
    once = sum(len(p.text) for p in pieces)
    assert once <= sum(len(t) for t in embedded) < 1.2 * once
    assert sum(len(p.text) for a, b in ranges for p in pieces[a:b]) > 1.3 * once
    # A window's vector is the length-weighted mean of its blocks' vectors.
    blocks = list(pairwise(sorted({e for r in ranges for e in r})))
    block_vectors = np.vstack(returned)
    start, end = ranges[1]
    mine = [i for i, (a, b) in enumerate(blocks) if start <= a and b <= end]
    assert len(mine) >= 2 and all(t.startswith("Weekly\n") for t in embedded)
    expected = sum((sum(len(p.text) for p in pieces[slice(*blocks[i])]) + 1) * block_vectors[i] for i in mine)
    assert np.allclose(vectors[1], expected / np.linalg.norm(expected), atol=1e-5)


def test_fusion_uses_neighbouring_windows_and_meeting_evidence():
    def window(chunk_id, meeting, segments, text="x: y"):
        return ChunkHit(
            chunk_id=chunk_id,
            source_type="transcript",
            source_id=meeting,
            document_id=None,
            title="",
            page=None,
            text=text,
            score=0.0,
            start_char=0,
            end_char=0,
            metadata={"meeting_id": meeting, "speakers": ["x"], "segment_ids": segments},
            similarity=0.5,
        )

    # Meeting 1 has two overlapping windows found by both lists; meeting 2 one window ranked first by BM25.
    a, b, lone = window(1, 1, [1, 2]), window(2, 1, [2, 3]), window(3, 2, [9])
    lists = Candidates(text=[lone, a, b], vector=[a, b, lone])
    plain = Ranking(text_weight=1.0, rrf_k=10, speaker_boost=0.0, meeting_weight=0.0)
    assert next(c.chunk_id for c, _ in fuse(lists, query="q", ranking=plain)) == 1
    lifted = fuse(
        lists,
        query="q",
        ranking=Ranking(text_weight=1.0, rrf_k=10, speaker_boost=0.0, neighbour_weight=0.5, meeting_weight=0.0),
    )
    before = dict((c.chunk_id, s) for c, s in fuse(lists, query="q", ranking=plain))
    after = dict((c.chunk_id, s) for c, s in lifted)
    assert after[1] > before[1] and after[2] > before[2] and after[3] == pytest.approx(before[3])
    evidence = dict(
        (c.chunk_id, s)
        for c, s in fuse(
            lists, query="q", ranking=Ranking(text_weight=1.0, rrf_k=10, speaker_boost=0.0, meeting_weight=1.0)
        )
    )
    assert evidence[1] == pytest.approx(before[1]) and evidence[3] < before[3]
