"""The company's language model in the live path: action items, decisions and fact checks.

Requests go through the real SDK to the fake OpenAI-compatible server on 127.0.0.1; the local analysis is the
fallback when the provider fails, answers with JSON that does not fit, or misses the live time budget.
"""

from __future__ import annotations

import json
import time

import pytest

from accounts.tenancy import tenant_scope
from ai import services as ai_services
from meetings.live.pipeline import segment_analyze
from meetings.models import ActionItem, Decision, FactCheck, Meeting
from tests.meetings.factories import meeting_make, participant_make, segment_make

pytestmark = pytest.mark.django_db

REPORT = ("Acme quarterly report. Financial results for the third quarter: Q3 revenue was $21.3 million, "
          "up 12% year over year. Gross margin was 71%.")


@pytest.fixture
def company_llm(company, fake_openai, settings):
    """Acme's own OpenAI-compatible endpoint; the global LLM settings stay empty."""
    settings.LLM_BASE_URL, settings.LLM_API_KEY = "", ""
    settings.LLM_MAX_RETRIES = 0
    settings.LIVE_LLM_BUDGET_SECONDS = 0.8
    with tenant_scope(company):
        ai_services.provider_settings_update(company=company, openai_base_url=fake_openai.base_url,
                                             openai_model="acme-model", openai_api_key="acme-key",
                                             timeout_seconds=5)
    return fake_openai


def _said(company, text: str, *, speaker: str = "Dana Seller") -> tuple[Meeting, int]:
    with tenant_scope(company):
        meeting = meeting_make(company=company, status=Meeting.Status.ACTIVE)
        participant_make(meeting=meeting, name="Dana Seller")
        participant_make(meeting=meeting, name="Priya Buyer")
        segment_make(meeting=meeting, text="Thanks for joining today.", speaker_label="Priya Buyer")
        segment = segment_make(meeting=meeting, text=text, speaker_label=speaker)
    return meeting, segment.pk


def _analyze(company, meeting: Meeting, segment_id: int) -> None:
    segment_analyze(company_id=company.pk, meeting_id=meeting.pk, segment_id=segment_id)


def _items(company, meeting: Meeting) -> list[ActionItem]:
    with tenant_scope(company):
        return list(ActionItem.objects.filter(meeting=meeting))


def test_live_action_items_come_from_the_company_model(company, company_llm):
    company_llm.reply(json.dumps({"action_items": [
        {"description": "Send Priya the security questionnaire", "assignee": "Dana Seller", "due_date": "",
         "priority": "high"}]}))
    meeting, segment_id = _said(company, "Right, so um I'll get you the uh security questionnaire then.")
    _analyze(company, meeting, segment_id)
    items = _items(company, meeting)
    assert [(i.description, i.assignee_name, i.provider) for i in items] == [
        ("Send Priya the security questionnaire", "Dana Seller", "openai:acme-model")]
    # The model saw the line with the lines before it, wrapped as data, under the company's prompt.
    asked = [r["body"] for r in company_llm.requests if "action items" in r["body"]["messages"][-1]["content"]]
    assert asked and "Thanks for joining today." in asked[0]["messages"][-1]["content"]


def test_a_model_that_misses_the_live_budget_falls_back_to_the_local_detector(company, company_llm):
    company_llm.hang()
    meeting, segment_id = _said(company, "I will send you the security questionnaire by Friday.")
    started = time.monotonic()
    _analyze(company, meeting, segment_id)
    elapsed = time.monotonic() - started
    items = _items(company, meeting)
    assert items and all(i.provider == "local (fallback: openai timeout)" for i in items)
    assert "questionnaire" in items[0].description.lower()
    # Three routed steps (action items, decisions, fact check), each cut at the budget, never the 5 s timeout.
    assert elapsed < 3 * 0.8 + 2.0


@pytest.mark.parametrize("reply", ['{"action_items": [{"descr', "not json at all", '{"decisions": "x"}'])
def test_malformed_or_truncated_json_never_loses_the_local_result(company, company_llm, reply):
    company_llm.reply(reply)
    meeting, segment_id = _said(company, "I will send you the security questionnaire by Friday.")
    _analyze(company, meeting, segment_id)
    items = _items(company, meeting)
    assert items and items[0].provider == "local (fallback: openai invalid output)"


def test_live_decisions_use_the_company_model(company, company_llm):
    company_llm.reply(json.dumps({"decisions": [{"text": "Go with the annual plan."}]}))
    meeting, segment_id = _said(company, "Okay so yeah, um, annual it is then.", speaker="Priya Buyer")
    _analyze(company, meeting, segment_id)
    with tenant_scope(company):
        rows = list(Decision.objects.filter(meeting=meeting))
        assert [(d.text, d.provider) for d in rows] == [("Go with the annual plan.", "openai:acme-model")]
        assert [s.pk for s in rows[0].source_segments.all()] == [segment_id]


def test_fact_checks_use_the_company_fact_check_prompt_and_cite_the_passage(company, company_llm):
    from tests.knowledge.factories import document_ingested

    with tenant_scope(company):
        document_ingested(company=company, title="Q3 financial report", text=REPORT)
        ai_services.prompt_save(company=company, prompt_type="fact_check",
                                body="You are Acme's finance checker. Be strict about revenue figures.")
    company_llm.reply(json.dumps({"verdict": "incorrect", "passage": 1, "document_value": "$21.3 million"}))
    meeting, segment_id = _said(company, "Our Q3 revenue was eighteen point seven million dollars.")
    _analyze(company, meeting, segment_id)
    with tenant_scope(company):
        checks = list(FactCheck.objects.filter(meeting=meeting))
    assert [(c.verdict, c.corrected_value, c.provider) for c in checks] == [
        ("incorrect", "$21.3 million", "openai:acme-model")]
    assert checks[0].source["title"] == "Q3 financial report" and "21.3" in checks[0].source["snippet"]
    systems = [r["body"]["messages"][0]["content"] for r in company_llm.requests
               if "Claim made in the meeting" in r["body"]["messages"][-1]["content"]]
    assert systems == ["You are Acme's finance checker. Be strict about revenue figures."]


def test_a_failing_fact_check_model_falls_back_to_the_local_check(company, company_llm):
    from tests.knowledge.factories import document_ingested

    with tenant_scope(company):
        document_ingested(company=company, title="Q3 financial report", text=REPORT)
    company_llm.fail(500)
    meeting, segment_id = _said(company, "Our Q3 revenue was eighteen point seven million dollars.")
    _analyze(company, meeting, segment_id)
    with tenant_scope(company):
        checks = list(FactCheck.objects.filter(meeting=meeting))
    assert [(c.verdict, c.provider) for c in checks] == [("incorrect", "local (fallback: openai http 500)")]
    assert "21.3" in checks[0].corrected_value


def test_a_server_without_json_schema_gets_json_object_with_the_schema(company, company_llm):
    """llama.cpp's Python server refuses response_format json_schema: ask again with json_object + schema, once."""
    company_llm.reply(json.dumps({"action_items": [{"description": "Send the costing spreadsheet"}]}),
                      json_object_only=True)
    for text in ("I'll send the costing spreadsheet later.", "And um I'll send the spreadsheet."):
        meeting, segment_id = _said(company, text)
        _analyze(company, meeting, segment_id)
        assert [i.provider for i in _items(company, meeting)] == ["openai:acme-model"]
    formats = [(r["body"].get("response_format") or {}).get("type") for r in company_llm.requests
               if "action items" in r["body"]["messages"][-1]["content"]]
    assert formats == ["json_schema", "json_object", "json_object"]  # remembered per server
    assert "properties" in company_llm.requests[-1]["body"]["response_format"]["schema"]


def test_the_live_path_asks_once_with_a_capped_reply(company, company_llm, settings):
    settings.LLM_MAX_RETRIES = 2  # what reports and answers may use; a live step has no time for it
    company_llm.fail(500)
    meeting, segment_id = _said(company, "I will send you the security questionnaire by Friday.")
    _analyze(company, meeting, segment_id)
    live = [r["body"] for r in company_llm.requests if "LAST line" in r["body"]["messages"][-1]["content"]]
    assert len(live) == 2  # action items and decisions, one request each
    assert all(body["max_tokens"] == 400 for body in live)


def test_llm_max_output_tokens_caps_every_reply(company, company_llm, settings):
    from ai.routing import route_for

    settings.LLM_MAX_OUTPUT_TOKENS = 123
    with tenant_scope(company):
        assert route_for(company=company, prompt_type="summary").spec.max_tokens == 123
    settings.LLM_MAX_OUTPUT_TOKENS = 0
    with tenant_scope(company):
        assert route_for(company=company, prompt_type="summary").spec.max_tokens is None


def test_without_a_company_the_live_path_uses_the_global_model(company, company_llm, settings):
    """``company=None`` (make eval-llm, scripts): the global LLM settings, remembered apart from any company's."""
    from meetings.analysis.types import Utterance
    from meetings.live import llm as live_llm

    settings.LLM_BASE_URL, settings.LLM_API_KEY, settings.LLM_MODEL = company_llm.base_url, "global-key", "global"
    settings.LIVE_ROUTE_CACHE_SECONDS = 60
    window = [Utterance(speaker="Dana", text="So we ship the beta on Friday, agreed?", segment_id=7)]
    live_llm.routes_forget()
    for _ in range(2):  # the second round reads the remembered routes
        company_llm.reply(json.dumps({"decisions": [{"text": "Ship the beta on Friday", "source_text": ""}]}))
        outcome = live_llm.live_decisions(company=None, window=window, local=[])
        assert [d.text for d in outcome.items] == ["Ship the beta on Friday"]
        assert company_llm.requests[-1]["body"]["model"] == "global"
        company_llm.reply(json.dumps({"decisions": []}))
        with tenant_scope(company):
            live_llm.live_decisions(company=company, window=window, local=[])
        assert company_llm.requests[-1]["body"]["model"] == "acme-model"
        assert {(None, "decisions"), (company.pk, "decisions")} <= set(live_llm._routes)
    assert live_llm.company_route(None, "decisions") is live_llm._routes[(None, "decisions")][1]
