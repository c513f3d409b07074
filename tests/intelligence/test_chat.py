"""Chat with your meetings: threads, cited answers (extractive and streamed from a model), isolation."""

import json
import re

import pytest

from accounts.tenancy import tenant_scope
from ai.models import ChatMessage, ChatThread
from meetings.intelligence.chat import I_DONT_KNOW
from meetings.intelligence.indexing import meeting_index
from tests.intelligence.factories import chat_thread_make, scripted_meeting_make
from tests.knowledge.factories import document_ingested

pytestmark = pytest.mark.django_db


@pytest.fixture
def sales(company):
    meeting = scripted_meeting_make(company=company)
    with tenant_scope(company):
        meeting_index(company=company, meeting=meeting)
    return meeting


def sse_events(response) -> list[tuple[str, dict]]:
    body = b"".join(response.streaming_content).decode()
    events = []
    for block in body.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.split("\n"))
        events.append((lines["event"], json.loads(lines["data"])))
    return events


def _ask(actor, thread_id, content, *, stream=False):
    return actor.api().post(f"/api/v1/chat/threads/{thread_id}/messages", {"content": content, "stream": stream},
                            content_type="application/json")


def test_extractive_answer_cites_the_moment(sales, member):
    thread = member.api().post("/api/v1/chat/threads", {}, content_type="application/json").json()
    reply = _ask(member, thread["id"], "Is our data encrypted at rest?").json()
    assert reply["role"] == "assistant" and reply["status"] == "done" and reply["provider"] == "local"
    assert "AES-256" in reply["content"] and re.search(r"\[\d\]", reply["content"])
    cited = [c for c in reply["citations"] if c["cited"]]
    assert cited and all(c["meeting_id"] == sales.pk for c in cited)
    assert cited[0]["url"].startswith(f"/meetings/{sales.pk}/?t=") and "#segment-" in cited[0]["url"]

    unknown = _ask(member, thread["id"], "Which football team won the league in 1987?").json()
    assert unknown["content"] == I_DONT_KNOW and not any(c["cited"] for c in unknown["citations"])

    detail = member.api().get(f"/api/v1/chat/threads/{thread['id']}").json()
    assert [m["role"] for m in detail["messages"]] == ["user", "assistant", "user", "assistant"]
    assert detail["title"].startswith("Is our data encrypted")


def test_follow_up_questions_keep_the_context(sales, member):
    thread = member.api().post("/api/v1/chat/threads", {"meeting_id": sales.pk},
                               content_type="application/json").json()
    assert thread["meeting_id"] == sales.pk
    _ask(member, thread["id"], "What does the annual contract cost for 200 seats?")
    follow_up = _ask(member, thread["id"], "And the discount on it?").json()
    assert "fifteen percent" in follow_up["content"].lower() or "15" in follow_up["content"]


def test_streamed_answer_from_a_model(sales, member, fake_openai, settings, company):
    fake_openai.configure(settings)
    fake_openai.reply("Data is encrypted at rest with AES-256 [1].")
    thread = chat_thread_make(company=company, user=member.user)
    response = _ask(member, thread.pk, "Is our data encrypted at rest?", stream=True)
    assert response.status_code == 200 and response["Content-Type"] == "text/event-stream"
    events = sse_events(response)
    names = [name for name, _ in events]
    assert names[0] == "start" and names[-1] == "done" and names.count("token") >= 3
    streamed = "".join(data["text"] for name, data in events if name == "token")
    done = events[-1][1]
    assert streamed == done["content"] == "Data is encrypted at rest with AES-256 [1]."
    assert done["provider"] == "openai:fake-model"
    assert [c["n"] for c in done["citations"] if c["cited"]] == [1]
    sent = fake_openai.requests[-1]["body"]
    assert sent["stream"] is True and "<<<BEGIN>>>" in sent["messages"][-1]["content"]
    assert "AES-256" in sent["messages"][-1]["content"]  # the retrieved transcript went to the model
    with tenant_scope(company):
        stored = ChatMessage.objects.filter(thread=thread, role="assistant").get()
        assert stored.content == done["content"] and stored.status == "done"


def test_model_failure_falls_back_and_interruption_is_recorded(sales, member, fake_openai, settings, company):
    fake_openai.configure(settings)
    fake_openai.fail(500)
    thread = chat_thread_make(company=company, user=member.user)
    reply = _ask(member, thread.pk, "Is our data encrypted at rest?").json()
    assert reply["provider"] == "local (fallback: openai http 500)" and "AES-256" in reply["content"]

    fake_openai.break_stream_after(2, reply="Data is encrypted with AES-256 and stored in Frankfurt.")
    events = sse_events(_ask(member, thread.pk, "Where is our data stored?", stream=True))
    done = events[-1][1]
    assert events[-1][0] == "done" and "cut off" in done["content"]
    assert done["provider"].startswith("openai:fake-model (interrupted")


def test_documents_are_cited_too(company, member):
    document_ingested(company=company, title="Refund policy",
                      text="Annual plans can be refunded within 30 days of purchase. Monthly plans are not refunded.")
    thread = chat_thread_make(company=company, user=member.user)
    reply = _ask(member, thread.pk, "Can annual plans be refunded?").json()
    cited = [c for c in reply["citations"] if c["cited"]]
    assert cited and cited[0]["source_type"] == "document" and cited[0]["title"] == "Refund policy"
    assert "30 days" in reply["content"]


def test_threads_are_private_and_tenant_scoped(sales, company, member, manager, outsider):
    mine = chat_thread_make(company=company, user=member.user, title="Mine")
    assert member.api().get(f"/api/v1/chat/threads/{mine.pk}").status_code == 200
    assert manager.api().get(f"/api/v1/chat/threads/{mine.pk}").status_code == 404  # a colleague's thread
    assert outsider.api().get(f"/api/v1/chat/threads/{mine.pk}").status_code == 404
    assert _ask(outsider, mine.pk, "Is our data encrypted at rest?").status_code == 404
    assert outsider.api().delete(f"/api/v1/chat/threads/{mine.pk}").status_code == 404
    # A thread about another company's meeting cannot be opened.
    assert outsider.api().post("/api/v1/chat/threads", {"meeting_id": sales.pk},
                               content_type="application/json").status_code == 404
    # An outsider's own question never reaches Acme's meetings.
    theirs = outsider.api().post("/api/v1/chat/threads", {}, content_type="application/json").json()
    reply = _ask(outsider, theirs["id"], "Is our data encrypted at rest?").json()
    assert reply["content"] == I_DONT_KNOW and reply["citations"] == []
    listing = manager.api().get("/api/v1/chat/threads").json()
    assert listing["count"] == 0
    assert member.api().delete(f"/api/v1/chat/threads/{mine.pk}").status_code == 204
    with tenant_scope(company):
        assert not ChatThread.objects.filter(pk=mine.pk).exists()


def test_chat_pages(sales, company, member, outsider):
    browser = member.browser()
    assert browser.get("/chat/").status_code == 200
    created = browser.post("/chat/new/", {"meeting_id": sales.pk})
    assert created.status_code == 302
    thread_url = created["Location"]
    _ask(member, int(thread_url.rstrip("/").split("/")[-1]), "Is our data encrypted at rest?")
    page = browser.get(thread_url)
    html = page.content.decode()
    assert page.status_code == 200 and "AES-256" in html and 'class="cite"' in html and "chat-form" in html
    assert outsider.browser().get(thread_url).status_code == 404
    assert outsider.browser().post("/chat/new/", {"meeting_id": sales.pk}).status_code == 404


@pytest.mark.django_db(transaction=True)
async def test_asgi_streams_tokens_as_they_come(company, member, fake_openai, settings):
    """Under ASGI (daphne) the reply is an async stream, not a buffered list."""
    from asgiref.sync import sync_to_async
    from django.test import AsyncClient

    fake_openai.configure(settings)
    fake_openai.reply("Everything is encrypted at rest with AES-256 [1].")
    await sync_to_async(_index_sales)(company)
    thread = await sync_to_async(chat_thread_make)(company=company, user=member.user)
    response = await AsyncClient().post(f"/api/v1/chat/threads/{thread.pk}/messages",
                                        {"content": "Is our data encrypted at rest?"}, content_type="application/json",
                                        headers={"Authorization": f"Bearer {member.token}"})
    assert response.status_code == 200 and response.is_async
    chunks = [chunk async for chunk in response.streaming_content]
    assert len(chunks) > 3  # one event per piece, sent as it arrives
    events = [block for block in b"".join(chunks).decode().strip().split("\n\n")]
    assert events[0].startswith("event: start") and events[-1].startswith("event: done")
    done = json.loads(events[-1].split("data: ", 1)[1])
    assert done["content"] == "Everything is encrypted at rest with AES-256 [1]." and done["status"] == "done"


def _index_sales(company):
    meeting = scripted_meeting_make(company=company)
    with tenant_scope(company):
        meeting_index(company=company, meeting=meeting)
    return meeting
