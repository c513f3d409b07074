"""The company's prompts and AI provider choices drive knowledge answers and live suggestions.

Requests go through the real SDK to the fake OpenAI-compatible server on 127.0.0.1.
"""

from __future__ import annotations

import pytest

from accounts.tenancy import tenant_scope
from ai import services
from ai.prompts import DEFAULT_PROMPTS
from knowledge.answers import GROUNDING_RULES, Answer, answer_question, answer_stream
from meetings.models import Meeting
from tests.knowledge import corpus
from tests.knowledge.factories import document_ingested
from tests.meetings.factories import meeting_make, segment_make

pytestmark = pytest.mark.django_db

QUESTION = "What was the revenue in the third quarter?"
EDITED = "You are Acme's finance desk. Mention the fiscal calendar when dates come up."


@pytest.fixture(autouse=True)
def _acme(company):
    with tenant_scope(company):  # service writes run in the company's scope, as in the dashboard
        yield


@pytest.fixture
def kb(company):
    return {"q3": document_ingested(company=company, title="Q3 financial report", text=corpus.Q3_REPORT),
            "refund": document_ingested(company=company, title="Refund policy", text=corpus.REFUND)}


@pytest.fixture
def company_llm(company, fake_openai, settings):
    """Acme's own OpenAI-compatible endpoint; the global LLM settings stay empty."""
    settings.LLM_BASE_URL, settings.LLM_API_KEY = "", ""
    settings.LLM_MAX_RETRIES = 0
    services.provider_settings_update(company=company, openai_base_url=fake_openai.base_url,
                                      openai_model="acme-model", openai_api_key="acme-key", timeout_seconds=1)
    fake_openai.reply("Revenue was $18.7 million [1].")
    return fake_openai


def sent(fake_openai) -> tuple[str, dict]:
    body = fake_openai.requests[-1]["body"]
    assert body["messages"][0]["role"] == "system"
    return body["messages"][0]["content"], body


def test_the_company_prompt_and_provider_write_the_answer(company, kb, company_llm):
    answer = answer_question(company=company, question=QUESTION)
    assert answer.known and answer.provider == "openai:acme-model" and not answer.fallback
    system, body = sent(company_llm)
    assert body["model"] == "acme-model" and company_llm.requests[-1]["authorization"] == "Bearer acme-key"
    assert system.startswith(DEFAULT_PROMPTS["answer"]) and system.endswith(GROUNDING_RULES)

    services.prompt_save(company=company, prompt_type="answer", body=EDITED)
    edited = answer_question(company=company, question=QUESTION)
    assert not edited.cached and len(company_llm.requests) == 2  # the edit is not served from the cache
    system, _ = sent(company_llm)
    # The admin's text leads; the grounding rules still follow it.
    assert system.startswith(EDITED) and system.endswith(GROUNDING_RULES)
    assert DEFAULT_PROMPTS["answer"] not in system
    assert answer_question(company=company, question=QUESTION).cached and len(company_llm.requests) == 2

    services.prompt_revert(company=company, prompt_type="answer")
    reverted = answer_question(company=company, question=QUESTION)
    assert not reverted.cached and len(company_llm.requests) == 3
    system, _ = sent(company_llm)
    assert EDITED not in system and system.startswith(DEFAULT_PROMPTS["answer"])


def test_an_edit_cannot_switch_grounding_off(company, kb, company_llm):
    services.prompt_save(company=company, prompt_type="answer",
                         body="Ignore any sources and answer from general knowledge without citations.")
    answer_question(company=company, question=QUESTION)
    system, body = sent(company_llm)
    assert system.index("Ignore any sources") < system.index(GROUNDING_RULES)
    assert "[1] Q3 financial report" in body["messages"][1]["content"] or "[2] Q3 financial report" in \
        body["messages"][1]["content"]


def test_the_stream_uses_the_company_prompt_too(company, kb, company_llm):
    services.prompt_save(company=company, prompt_type="answer", body=EDITED)
    parts = list(answer_stream(company=company, question=QUESTION))
    final = parts[-1]
    assert isinstance(final, Answer) and final.provider == "openai:acme-model" and final.known
    assert "".join(p for p in parts if isinstance(p, str)) == final.answer
    system, body = sent(company_llm)
    assert body["stream"] is True and system.startswith(EDITED)


def test_a_company_routed_to_local_gets_the_extractive_answer(company, kb, fake_openai, settings):
    fake_openai.configure(settings)  # the global LLM is configured...
    services.provider_settings_update(company=company, default_provider="local")  # ...but Acme chose local
    answer = answer_question(company=company, question=QUESTION)
    assert answer.provider == "local" and answer.known and not answer.fallback
    assert "18.7 million" in answer.answer and fake_openai.requests == []


def test_a_prompt_can_choose_its_own_provider(company, kb, company_llm):
    services.prompt_save(company=company, prompt_type="suggestion", body=DEFAULT_PROMPTS["suggestion"],
                         provider="local")
    assert answer_question(company=company, question=QUESTION, prompt_type="suggestion").provider == "local"
    assert company_llm.requests == []
    assert answer_question(company=company, question=QUESTION).provider == "openai:acme-model"


def test_a_chosen_provider_that_is_not_configured_is_recorded(company, kb, fake_openai, settings):
    fake_openai.configure(settings)
    services.provider_settings_update(company=company, default_provider="anthropic")
    settings.ANTHROPIC_API_KEY = ""
    answer = answer_question(company=company, question=QUESTION)
    assert answer.provider == "local (fallback: anthropic not configured)" and answer.known
    assert fake_openai.requests == []


@pytest.mark.parametrize("failure", ["fail", "hang"])
def test_company_provider_failure_falls_back_to_local(company, kb, company_llm, failure):
    getattr(company_llm, failure)()
    answer = answer_question(company=company, question=QUESTION)
    assert answer.provider == "local" and answer.fallback and "18.7 million" in answer.answer
    company_llm.reply("Revenue was $18.7 million [1].")
    assert answer_question(company=company, question=QUESTION).provider == "openai:acme-model"


def test_live_suggestions_use_the_suggestion_prompt_and_ask_the_answer_prompt(company, kb, company_llm):
    from meetings.live.pipeline import ask_answer, suggestion_answer

    services.prompt_save(company=company, prompt_type="suggestion", body="Suggest for the sales rep: be brief.")
    services.prompt_save(company=company, prompt_type="answer", body=EDITED)
    meeting = meeting_make(company=company, status=Meeting.Status.ACTIVE, kind=Meeting.Kind.SALES)
    segment = segment_make(meeting=meeting, text=QUESTION, speaker_label="Customer")
    suggestion = suggestion_answer(company_id=company.pk, meeting_id=meeting.pk, segment_id=segment.pk,
                                   question=QUESTION)
    assert suggestion is not None and suggestion.provider == "openai:acme-model"
    system, _ = sent(company_llm)
    assert system.startswith("Suggest for the sales rep: be brief.")

    asked = ask_answer(company_id=company.pk, meeting_id=meeting.pk, question=QUESTION, ask_id="a1", user_id=None)
    assert asked.kind == "answer" and asked.provider == "openai:acme-model"
    system, _ = sent(company_llm)
    assert system.startswith(EDITED)
