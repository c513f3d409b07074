"""Answers written by an OpenAI-compatible LLM (a real HTTP server on 127.0.0.1), and every fallback."""

import json
import re

import pytest

from accounts.tenancy import tenant_scope
from knowledge.answers import DONT_KNOW, answer_question
from tests.knowledge import corpus
from tests.knowledge.factories import document_ingested

pytestmark = pytest.mark.django_db

QUESTION = "What was the revenue in the third quarter?"


@pytest.fixture(autouse=True)
def _acme(company):
    with tenant_scope(company):  # answers run in the caller's scope, as in a request or the live runner
        yield


@pytest.fixture
def kb(company, other_company):
    return {
        "refund": document_ingested(company=company, title="Refund policy", text=corpus.REFUND),
        "q3": document_ingested(company=company, title="Q3 financial report", text=corpus.Q3_REPORT),
        "globex": document_ingested(company=other_company, title="Project Hydra plan", text=corpus.GLOBEX),
    }


def sse(response):
    assert response.status_code == 200
    raw = b"".join(response).decode()
    events = []
    for block in raw.split("\n\n"):
        lines = [line for line in block.split("\n") if line and not line.startswith(":")]
        if lines:
            event = lines[0].removeprefix("event: ")
            events.append((event, json.loads(lines[1].removeprefix("data: "))))
    return events


def test_llm_writes_a_grounded_answer_with_citations(company, kb, fake_openai, settings):
    fake_openai.configure(settings)
    fake_openai.reply("Revenue was $18.7 million [2]. Annual plans are refundable for 30 days [1][2].")
    answer = answer_question(company=company, question=QUESTION)
    assert answer.provider == "openai:fake-model" and answer.known and not answer.fallback
    prompt = fake_openai.requests[-1]["body"]["messages"]
    assert prompt[0]["role"] == "system" and "only the numbered sources" in prompt[0]["content"]
    assert "18.7 million" in prompt[1]["content"] and QUESTION in prompt[1]["content"]
    assert "Hydra" not in prompt[1]["content"]  # never another company's passages
    numbered = dict(re.findall(r"^\[(\d)\] (.+)$", prompt[1]["content"], flags=re.MULTILINE))
    # Citations are renumbered so that [1] is the first source listed, in the order they were cited.
    assert answer.answer == "Revenue was $18.7 million [1]. Annual plans are refundable for 30 days [2][1]."
    assert [s["title"] for s in answer.sources] == [numbered["2"], numbered["1"]]
    cached = answer_question(company=company, question=QUESTION)
    assert cached.cached and len(fake_openai.requests) == 1


def test_llm_that_does_not_know_gives_no_sources(company, kb, fake_openai, settings):
    fake_openai.configure(settings)
    fake_openai.reply("I don't know.")
    answer = answer_question(company=company, question="Which refunds did the Q3 report mention?")
    assert not answer.known and answer.sources == [] and answer.answer == DONT_KNOW


def test_irrelevant_questions_never_reach_the_llm(company, kb, fake_openai, settings):
    fake_openai.configure(settings)
    answer = answer_question(company=company, question="Who painted the Mona Lisa?")
    assert not answer.known and fake_openai.requests == []


@pytest.mark.parametrize("failure", ["fail", "hang", "malformed"])
def test_provider_failures_fall_back_to_the_local_answer(company, kb, fake_openai, settings, failure):
    fake_openai.configure(settings, timeout=0.5)
    getattr(fake_openai, failure)()
    answer = answer_question(company=company, question=QUESTION)
    assert answer.provider == "local" and answer.fallback and answer.known
    assert "18.7 million" in answer.answer and answer.sources[0]["document_id"] == kb["q3"].pk
    # A fallback is not cached: once the provider is back, the LLM answers again.
    fake_openai.reply("Revenue was $18.7 million [1].")
    assert answer_question(company=company, question=QUESTION).provider == "openai:fake-model"


def test_stream_with_the_llm(member, kb, fake_openai, settings):
    fake_openai.configure(settings)
    fake_openai.reply("Revenue reached $18.7 million in Q3 [1], driven by enterprise customers [1].")
    events = sse(member.api().post("/api/v1/query/stream", data={"question": QUESTION},
                                   content_type="application/json"))
    deltas = [d["text"] for e, d in events if e == "delta"]
    assert len(deltas) > 3  # really streamed in pieces
    kind, done = events[-1]
    assert kind == "done" and done["provider"] == "openai:fake-model" and done["known"]
    assert "".join(deltas) == done["answer"]
    assert done["sources"][0]["document_id"] == kb["q3"].pk
    assert fake_openai.requests[-1]["body"]["stream"] is True


@pytest.mark.parametrize("failure", ["fail", "hang", "malformed"])
def test_stream_falls_back_when_the_provider_fails_up_front(member, kb, fake_openai, settings, failure):
    fake_openai.configure(settings, timeout=0.5)
    getattr(fake_openai, failure)()
    events = sse(member.api().post("/api/v1/query/stream", data={"question": QUESTION},
                                   content_type="application/json"))
    assert [e for e, _ in events if e != "delta"] == ["done"]
    done = events[-1][1]
    assert done["provider"] == "local" and done["fallback"] and "18.7 million" in done["answer"]
    assert "".join(d["text"] for e, d in events if e == "delta") == done["answer"]


def test_stream_broken_midway_resets_then_falls_back(member, kb, fake_openai, settings):
    fake_openai.configure(settings)
    fake_openai.break_stream_after(2, reply="Revenue was something I will never finish saying")
    events = sse(member.api().post("/api/v1/query/stream", data={"question": QUESTION},
                                   content_type="application/json"))
    kinds = [e for e, _ in events]
    reset_at = kinds.index("reset")
    assert kinds[:reset_at] == ["delta", "delta"]  # the partial LLM text the browser must discard
    after = "".join(d["text"] for e, d in events[reset_at:] if e == "delta")
    done = events[-1][1]
    assert done["fallback"] and done["provider"] == "local" and after == done["answer"]
    assert "18.7 million" in done["answer"]


@pytest.mark.django_db(transaction=True)
async def test_the_stream_arrives_while_the_model_is_still_writing(member, fake_openai, settings):
    """Through the ASGI path (async client): deltas reach the client before the answer is complete."""
    from asgiref.sync import sync_to_async
    from django.db import connections

    try:
        await _stream_timing(member, fake_openai, settings)
    finally:
        await sync_to_async(connections.close_all)()  # the worker thread's connection


async def _stream_timing(member, fake_openai, settings):
    import time

    from asgiref.sync import sync_to_async
    from django.test import AsyncClient

    await sync_to_async(document_ingested)(company=member.company, title="Q3 financial report",
                                           text=corpus.Q3_REPORT)
    fake_openai.configure(settings, timeout=5)
    fake_openai.reply("Revenue was $18.7 million in the third quarter [1].", chunk_size=10, chunk_delay=0.25)
    response = await AsyncClient().post("/api/v1/query/stream", data={"question": QUESTION},
                                        content_type="application/json", AUTHORIZATION=f"Bearer {member.token}")
    assert response.status_code == 200
    arrivals = []
    async for part in response.streaming_content:
        text = part.decode()
        if "event: delta" in text:
            arrivals.append(("delta", time.monotonic()))
        if "event: done" in text:
            arrivals.append(("done", time.monotonic()))
    first_delta = next(t for kind, t in arrivals if kind == "delta")
    done = next(t for kind, t in arrivals if kind == "done")
    assert done - first_delta > 0.75  # five pieces 0.25 s apart: the first was not held back
