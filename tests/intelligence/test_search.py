"""Meetings as chunks, and search across meetings and documents with filters."""

from datetime import datetime

import pytest
from django.utils import timezone

from accounts.tenancy import tenant_scope
from knowledge.models import Chunk
from meetings.intelligence.indexing import meeting_index, transcript_windows
from meetings.intelligence.search import SearchFilters, search
from meetings.models import ActionItem, Meeting, TranscriptSegment
from tests.intelligence.factories import scripted_meeting_make
from tests.knowledge.factories import document_ingested
from tests.meetings.factories import action_item_make, decision_make, report_make

pytestmark = pytest.mark.django_db

HIRING = [
    {"speaker": "Alice Admin", "text": "Let's talk about hiring. We need two backend engineers before October.",
     "start": 0.0, "end": 6.0},
    {"speaker": "Bob Builder", "text": "Recruiting has three candidates for the data engineering role.",
     "start": 6.5, "end": 11.0},
    {"speaker": "Alice Admin", "text": "Bob, please schedule the onsite interviews for next week.",
     "start": 11.5, "end": 15.0},
]


def _aware(day: str) -> datetime:
    return timezone.make_aware(datetime.fromisoformat(day + "T10:00:00"))


@pytest.fixture
def indexed(company, other_company):
    sales = scripted_meeting_make(company=company, platform=Meeting.Platform.ZOOM, started_at=_aware("2025-05-22"))
    hiring = scripted_meeting_make(company=company, title="Hiring sync", platform=Meeting.Platform.GOOGLE_MEET,
                                   started_at=_aware("2025-06-10"), utterances=HIRING,
                                   participants=[{"name": "Alice Admin"}, {"name": "Bob Builder"}])
    report_make(meeting=sales, short_summary="Initech wants a 60 day pilot; pricing is 45 dollars per seat.")
    decision_make(meeting=sales, text="Go with a 60 day pilot for the finance team first")
    action_item_make(meeting=sales, description="Send the revised proposal with the pilot terms",
                     assignee_name="Dana Whitfield")
    theirs = scripted_meeting_make(company=other_company, title="Globex copy of the sales call")
    for meeting in (sales, hiring, theirs):
        with tenant_scope(meeting.company_id):
            meeting_index(company=meeting.company, meeting=meeting)
    document_ingested(company=company, title="Security whitepaper",
                      text="All customer data is encrypted at rest with AES-256. Backups are kept for 35 days.")
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
        assert 600 <= len(chunk.text) <= 1000, len(chunk.text)
    meta = transcript[1].metadata
    assert meta["meeting_id"] == sales.pk and meta["meeting_date"] == "2025-05-22" and meta["platform"] == "zoom"
    assert set(meta["participants"]) == {"Dana Whitfield", "Sam Patel", "Morgan Lee", "Riley Chen"}
    assert meta["speakers"] and meta["segment_ids"] and meta["end_time"] > meta["start_time"]
    # Consecutive windows cover the transcript in order, without overlap.
    ids = [i for c in transcript for i in c.metadata["segment_ids"]]
    assert ids == sorted(ids) and len(ids) == len(set(ids))
    assert transcript[0].created_at.date().isoformat() == "2025-05-22"


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
            hits = search(company=company, query="candidates pilot pricing interviews", k=20,
                          filters=SearchFilters(**filters))
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
    filtered = member.api().get("/api/v1/meetings/search", {"q": "interviews", "participant": "Bob",
                                                            "date_from": "2025-06-01", "platform": "google_meet"})
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
    assert f"/meetings/{indexed['sales'].pk}/".encode() not in outsider.browser().get(
        "/search/", {"q": "encrypted at rest"}).content
