"""Live meeting intelligence from a scripted sales call with known answers, through the real socket.

Acme's knowledge base holds a quarterly report ("Q3 revenue was $21.3 million"), a security FAQ and a
pricing FAQ. A consultant and a customer talk; the pipeline must find the action item (with a
due date resolved against the meeting date and a priority), the decision, an incorrect revenue
claim with the corrected value and its source, a correct one, suggested answers to the customer's
questions with sources, and answer an ``ask`` with citations.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from accounts.tenancy import tenant_scope
from meetings.live.pipeline import ask_answer, runners_wait_idle
from meetings.models import (
    ActionItem,
    AnalyticsEvent,
    Decision,
    FactCheck,
    Meeting,
    Participant,
    Suggestion,
)
from tests.meetings.factories import meeting_make
from tests.meetings.live_helpers import caption_frame, close_thread_connections, communicator, hello, receive_until

analysis = pytest.importorskip("meetings.analysis")
pytest.importorskip("knowledge.answers")

REPORT = ("Acme quarterly report. Financial results for the third quarter: Q3 revenue was $21.3 million, "
          "up 12% year over year. Gross margin was 71%. Headcount grew to 240 employees.")
SECURITY_FAQ = ("Acme security FAQ. Does Acme support single sign-on? Yes: Acme supports single sign-on (SSO) "
                "with Okta, Azure AD and Google Workspace through SAML 2.0. Is customer data encrypted? All customer "
                "data is encrypted at rest with AES-256 and in transit with TLS 1.2 or later.")
PRICING_FAQ = ("Acme pricing FAQ. How much does the Enterprise plan cost? The Enterprise plan costs $45 per seat per "
               "month, billed annually, with a minimum of 50 seats.")

# A Wednesday: "by Friday" is two days later.
MEETING_START = datetime(2025, 3, 12, 15, 0, tzinfo=timezone.get_current_timezone())

SCRIPT = [
    ("Dana Seller", "Thanks for joining today, Priya. Let me walk you through the platform."),
    ("Priya Buyer", "Does your platform support single sign-on with Okta?"),
    ("Dana Seller", "Our Q3 revenue was eighteen point seven million dollars, so we are growing fast."),
    ("Priya Buyer", "How much does the enterprise plan cost per seat?"),
    ("Dana Seller", "I will send you the security questionnaire by Friday, it is urgent."),
    ("Priya Buyer", "Okay. We decided to go with the annual plan."),
    ("Dana Seller", "To be precise, Q3 revenue was twenty one point three million dollars."),
]


@pytest.fixture
def knowledge(company):
    from tests.knowledge.factories import document_ingested

    document_ingested(company=company, title="Q3 report", text=REPORT)
    document_ingested(company=company, title="Security FAQ", text=SECURITY_FAQ)
    document_ingested(company=company, title="Pricing FAQ", text=PRICING_FAQ)


@pytest.fixture
def sales_meeting(company):
    return meeting_make(company=company, status=Meeting.Status.ACTIVE, kind=Meeting.Kind.SALES,
                        title="Acme x Priya", started_at=MEETING_START)


def _state(company, meeting):
    with tenant_scope(company):
        return {
            "items": list(ActionItem.objects.filter(meeting=meeting).select_related("assignee_participant")),
            "decisions": list(Decision.objects.filter(meeting=meeting)),
            "checks": list(FactCheck.objects.filter(meeting=meeting).order_by("pk")),
            "suggestions": list(Suggestion.objects.filter(meeting=meeting).order_by("pk")),
            "roles": dict(Participant.objects.filter(meeting=meeting).values_list("name", "role")),
            "analytics": list(AnalyticsEvent.objects.filter(meeting=meeting).values_list("kind", "participant__name")),
        }


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
@pytest.mark.slow
async def test_scripted_sales_call(company, admin, knowledge, sales_meeting):
    comm = communicator(sales_meeting.pk, token=admin.token)
    assert (await comm.connect(timeout=10))[0]
    await hello(comm, client_id="chrome-dana", participant={"name": "Dana Seller", "email": "dana@acme.test"})
    frames: list[dict] = []
    for seq, (speaker, text) in enumerate(SCRIPT, start=1):
        await comm.send_json_to(caption_frame(seq, text, speaker=speaker, start=seq * 5.0, end=seq * 5.0 + 4))
        ack = await receive_until(comm, lambda f, s=seq: f["type"] == "ack" and f["sequence"] == s, collected=frames)
        assert ack["status"] == "stored"
    await comm.send_json_to({"type": "ask", "id": "q-1", "question": "Is customer data encrypted?"})

    def have(kind, pred=lambda f: True):
        return any(f["type"] == kind and pred(f) for f in frames)

    wanted = [("action_item", lambda f: True), ("decision", lambda f: True),
              ("fact_check", lambda f: f["data"]["verdict"] == "incorrect"),
              ("fact_check", lambda f: f["data"]["verdict"] == "correct"),
              ("suggestion", lambda f: "Okta" in f["data"]["question"]),
              ("suggestion", lambda f: "enterprise plan" in f["data"]["question"]),
              ("answer", lambda f: f["data"]["ask_id"] == "q-1")]
    for kind, pred in wanted:
        if not have(kind, pred):
            await receive_until(comm, lambda f, k=kind, p=pred: f["type"] == k and p(f), timeout=60,
                                collected=frames)
    await comm.disconnect()
    await sync_to_async(runners_wait_idle)(30)

    # the events carry what the dashboard and extension show
    item = next(f["data"] for f in frames if f["type"] == "action_item")
    assert "security questionnaire" in item["description"].lower()
    assert item["assignee_name"] == "Dana Seller" and item["priority"] == "high"
    assert item["due_date"] == "2025-03-14"
    incorrect = next(f["data"] for f in frames if f["type"] == "fact_check" and f["data"]["verdict"] == "incorrect")
    assert "21.3" in incorrect["corrected_value"] and "18.7" in incorrect["claimed_value"]
    assert incorrect["source"]["title"] == "Q3 report" and "21.3" in incorrect["source"]["snippet"]
    okta = next(f["data"] for f in frames if f["type"] == "suggestion" and "Okta" in f["data"]["question"])
    assert "Okta" in okta["answer"] and okta["sources"][0]["title"] == "Security FAQ"
    assert okta["asker"] == "Priya Buyer"
    price = next(f["data"] for f in frames if f["type"] == "suggestion" and "enterprise" in f["data"]["question"])
    assert "$45" in price["answer"] and price["sources"][0]["title"] == "Pricing FAQ"
    answer = next(f["data"] for f in frames if f["type"] == "answer")
    assert "AES-256" in answer["answer"] and answer["sources"] and answer["kind"] == "answer"
    roles_events = [f for f in frames if f["type"] == "status" and f["data"]["kind"] == "roles"]
    assert roles_events
    last_transcript = [f for f in frames if f["type"] == "transcript"][-1]
    assert last_transcript["data"]["role"] == "consultant"  # learnt by then, sent with the transcript

    state = await sync_to_async(_state)(company, sales_meeting)
    await close_thread_connections()
    [action] = state["items"]
    assert action.due_date == date(2025, 3, 14) and action.priority == "high" and action.origin == "live"
    assert action.assignee_participant.name == "Dana Seller" and action.assignee_participant.user_id == admin.user.pk
    assert [d.text for d in state["decisions"]] == ["Go with the annual plan"]
    assert [c.verdict for c in state["checks"]] == ["incorrect", "correct"]
    assert state["checks"][0].corrected_value and state["checks"][0].source["title"] == "Q3 report"
    kinds = sorted(s.kind for s in state["suggestions"])
    assert kinds == ["answer", "suggestion", "suggestion"]
    assert all(s.sources for s in state["suggestions"])
    assert state["roles"] == {"Dana Seller": "consultant", "Priya Buyer": "customer"}
    assert ("join", "Dana Seller") in state["analytics"] and ("leave", "Dana Seller") in state["analytics"]
    assert state["analytics"].count(("question", "Priya Buyer")) == 2
    assert ("query", None) in state["analytics"] or ("query", "Dana Seller") in state["analytics"]
    assert ("speak_start", "Priya Buyer") in state["analytics"]


@pytest.mark.django_db
def test_internal_meetings_get_no_suggestions_and_a_failing_knowledge_base_still_answers(
        company, scope, settings, monkeypatch, django_capture_on_commit_callbacks):
    from meetings.live import pipeline
    from meetings.live.ingest import caption_ingest
    from tests.meetings.live_helpers import caption

    settings.LIVE_ANALYSIS_MODE = "inline"
    meeting = meeting_make(company=company, status=Meeting.Status.ACTIVE, kind=Meeting.Kind.INTERNAL,
                           started_at=timezone.now() - timedelta(minutes=5))
    calls = []
    monkeypatch.setattr(pipeline, "_knowledge_answer", lambda *a: calls.append(a))
    with django_capture_on_commit_callbacks(execute=True):
        caption_ingest(company=company, meeting=meeting, client_id="c", caption=caption(
            1, "How much does the enterprise plan cost per seat?", speaker="Sam"))
    assert calls == []  # a colleague's question in an internal meeting is not answered for them
    assert AnalyticsEvent.objects.filter(meeting=meeting, kind="question").count() == 1

    def broken(*args, **kwargs):
        raise RuntimeError("knowledge base down")

    monkeypatch.setattr(pipeline, "_knowledge_answer", broken)
    with django_capture_on_commit_callbacks(execute=True):
        suggestion = ask_answer(company_id=company.pk, meeting_id=meeting.pk, question="Anything?", ask_id="x",
                                user_id=None)
    assert suggestion.kind == "answer" and suggestion.answer == pipeline.NO_ANSWER and suggestion.sources == []
