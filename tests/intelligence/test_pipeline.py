"""The after-meeting pipeline as a service: local analysis, merging, re-runs, providers, long meetings."""

import json

import pytest

from accounts.tenancy import tenant_scope
from ai import services
from meetings.intelligence.pipeline import report_generate
from meetings.models import ActionItem, Decision, MeetingReport, Participant
from tests.intelligence.factories import long_meeting_make, scripted_meeting_make
from tests.meetings.factories import action_item_make

pytestmark = pytest.mark.django_db

LLM_REPLY = {
    "short_summary": "Initech agreed to a 60 day pilot.",
    "detailed_summary": "Dana and Sam walked Initech through security and pricing.",
    "key_points": ["Pilot first", "Security questionnaire next"],
    "action_items": [
        {"description": "Send the revised proposal with the pilot terms", "assignee": "Dana Whitfield",
         "due_date": "2025-05-23", "priority": "high", "source_text": "I'll send the revised proposal"},
        {"description": "Book a security review call with Riley", "assignee": "Sam Patel", "due_date": "",
         "priority": "medium", "source_text": ""},
    ],
    "decisions": [{"text": "Start with a 60 day pilot for the finance team", "source_text": ""}],
    "subject": "Next steps after today's call",
    "body": "Thanks Morgan and Riley.",
}


def _run(company, meeting, **kwargs):
    with tenant_scope(company):
        report_generate(company=company, meeting=meeting, **kwargs)
        return (MeetingReport.objects.get(meeting=meeting),
                list(ActionItem.objects.filter(meeting=meeting).order_by("pk")),
                list(Decision.objects.filter(meeting=meeting).order_by("pk")))


def test_local_pipeline_on_the_scripted_sales_call(company):
    meeting = scripted_meeting_make(company=company)
    report, items, decisions = _run(company, meeting)
    assert report.status == "done" and report.provider == "local" and not report.is_partial
    assert "pilot" in report.short_summary.lower() and report.detailed_summary
    assert report.key_points and report.follow_up_email
    assert [t for t in report.topics if t["end"] > t["start"] and t["title"]]
    assert {(a.assignee_name, a.due_date.isoformat() if a.due_date else None) for a in items} >= {
        ("Riley Chen", "2025-05-23"), ("Sam Patel", "2025-05-28"), ("Dana Whitfield", "2025-05-23")}
    assert all(a.origin == "summary" and a.provider == "local" and a.source_segment_id for a in items)
    assert all(a.assignee_participant and a.assignee_participant.name == a.assignee_name for a in items)
    assert [d.text for d in decisions] == ["Go with a 60 day pilot for the finance team first"]
    with tenant_scope(company):
        assert decisions[0].source_segments.count() == 1
        people = {p.name: p for p in Participant.objects.filter(meeting=meeting)}
    encrypted = next(q for q in report.questions if "encrypted at rest" in q["text"])
    assert encrypted["asked_by"] == "Riley Chen" and encrypted["answered"] and encrypted["answer_segment"]
    assert encrypted["segment_id"] and encrypted["at"] is not None
    stats = {s["speaker"]: s for s in report.talk_time}
    assert set(stats) == set(people)
    assert people["Dana Whitfield"].speaking_seconds == pytest.approx(stats["Dana Whitfield"]["speaking_seconds"])
    assert sum(p.participation_score for p in people.values()) == pytest.approx(100, abs=0.5)
    assert set(report.sentiment) >= {"overall", "per_participant", "timeline"}


def test_rerun_is_idempotent_merges_live_items_and_keeps_edits(company):
    meeting = scripted_meeting_make(company=company)
    # Detected live during the call, worded differently from the after-meeting analysis.
    live = action_item_make(meeting=meeting, description="Riley sends over the vendor security questionnaire",
                            origin=ActionItem.Origin.LIVE, assignee_name="", confidence=0.6)
    report, items, decisions = _run(company, meeting)
    assert len(items) == 4, [a.description for a in items]
    live = next(a for a in items if a.pk == live.pk)
    assert live.origin == "live" and live.assignee_name == "Riley Chen"  # filled in, not duplicated
    assert live.due_date is not None

    edited = next(a for a in items if a.assignee_name == "Sam Patel")
    edited.description, edited.due_date = "Sam: questionnaire + SOC 2 report", None
    edited.edited_fields = ["description", "due_date"]
    edited.status = ActionItem.Status.DONE
    with tenant_scope(company):
        edited.save()
        stale = action_item_make(meeting=meeting, description="Order pizza for the team",
                                 origin=ActionItem.Origin.SUMMARY)
        kept = action_item_make(meeting=meeting, description="Prepare the board deck",
                                origin=ActionItem.Origin.SUMMARY, edited_fields=["assignee"])

    report2, items2, decisions2 = _run(company, meeting)
    by_pk = {a.pk: a for a in items2}
    assert stale.pk not in by_pk and kept.pk in by_pk  # untouched leftovers go, touched ones stay
    assert len(items2) == 5 and len(decisions2) == len(decisions) == 1
    again = by_pk[edited.pk]
    assert again.description == "Sam: questionnaire + SOC 2 report" and again.due_date is None
    assert again.status == ActionItem.Status.DONE
    assert report2.short_summary == report.short_summary and report2.talk_time == report.talk_time
    _, items3, decisions3 = _run(company, meeting)
    assert [a.pk for a in items3] == [a.pk for a in items2] and [d.pk for d in decisions3] == [d.pk for d in decisions2]


def test_language_model_writes_its_sections(company, fake_openai, settings):
    fake_openai.configure(settings)
    fake_openai.reply(json.dumps(LLM_REPLY))
    meeting = scripted_meeting_make(company=company)
    with tenant_scope(company):
        services.prompt_save(company=company, prompt_type="summary", body="ACME HOUSE STYLE: be brief.")
    report, items, decisions = _run(company, meeting)
    assert report.provider == "openai:fake-model" and report.status == "done"
    assert report.short_summary == LLM_REPLY["short_summary"]
    assert report.key_points == LLM_REPLY["key_points"]
    assert report.follow_up_email.startswith("Subject: Next steps after today's call")
    assert {a.description for a in items} == {i["description"] for i in LLM_REPLY["action_items"]}
    assert all(a.provider == "openai:fake-model" for a in items)
    dana = next(a for a in items if a.assignee_name == "Dana Whitfield")
    assert dana.priority == "high" and dana.due_date.isoformat() == "2025-05-23" and dana.assignee_participant_id
    assert [d.text for d in decisions] == ["Start with a 60 day pilot for the finance team"]
    # The local measurements stay: talk time and questions are not the model's job.
    assert len(report.talk_time) == 4 and report.questions
    systems = [r["body"]["messages"][0]["content"] for r in fake_openai.requests]
    assert "ACME HOUSE STYLE: be brief." in systems
    user_text = fake_openai.requests[0]["body"]["messages"][1]["content"]
    assert "<<<BEGIN>>>" in user_text and "encrypted at rest" in user_text


def test_contentless_model_sections_are_not_accepted(company, fake_openai, settings):
    """Small models return valid JSON with no content ("." as the summary, empty items): the summary falls
    back to the local one, and items without words are dropped while the good ones stay."""
    fake_openai.configure(settings)
    hollow = {**LLM_REPLY, "short_summary": ".", "detailed_summary": "Ok",
              "action_items": [*LLM_REPLY["action_items"], {"description": " - ", "assignee": "Sam Patel"}],
              "decisions": [{"text": "1."}, *LLM_REPLY["decisions"]]}
    fake_openai.reply(json.dumps(hollow))
    meeting = scripted_meeting_make(company=company)
    report, items, decisions = _run(company, meeting)
    assert report.status == "done"
    assert report.short_summary != "." and "pilot" in report.short_summary.lower()  # the local summary
    assert "summary" in report.notes.lower() and "invalid output" in report.notes
    assert {a.description for a in items} == {i["description"] for i in LLM_REPLY["action_items"]}
    assert [d.text for d in decisions] == ["Start with a 60 day pilot for the finance team"]


@pytest.mark.parametrize(("program", "label"), [
    (lambda f: f.fail(503), "local (fallback: openai http 503)"),
    (lambda f: f.hang(), "local (fallback: openai timeout)"),
    (lambda f: f.malformed(), "local (fallback: openai invalid output)"),
    (lambda f: f.reply('{"unexpected": true}'), "local (fallback: openai invalid output)"),
])
def test_provider_failure_falls_back_to_local(company, fake_openai, settings, program, label):
    fake_openai.configure(settings, timeout=0.5)
    program(fake_openai)
    meeting = scripted_meeting_make(company=company)
    report, items, decisions = _run(company, meeting)
    assert report.status == "done" and report.provider == label
    assert "pilot" in report.short_summary.lower()  # the local summary
    assert len(items) == 4 and all(a.provider == label for a in items)
    assert "the local analysis was used" in report.notes
    if "invalid output" not in label:  # a provider that is down is asked once per run, not once per section
        assert len(fake_openai.requests) == 1


def test_two_hour_meeting_completes_locally(company):
    meeting = long_meeting_make(company=company, hours=2)
    report, items, decisions = _run(company, meeting)
    assert report.status == "done" and not report.is_partial
    assert len(report.topics) >= 3 and report.topics[-1]["end"] > 7000
    assert {s["speaker"] for s in report.talk_time} == {"Alice Admin", "Bob Builder", "Carol Chen"}
    assert items and decisions and report.questions


def test_two_hour_meeting_with_a_model_is_summarised_in_parts(company, fake_openai, settings):
    fake_openai.configure(settings)
    fake_openai.reply(json.dumps(LLM_REPLY))
    settings.INTELLIGENCE_LLM_PART_TOKENS = 2000  # about 8,000 characters a part
    settings.INTELLIGENCE_LLM_MAX_PARTS = 5
    meeting = long_meeting_make(company=company, hours=2)
    report, items, decisions = _run(company, meeting)
    assert report.status == "done" and report.is_partial
    assert "summary covers 00:00-" in report.notes
    summary_calls = [r for r in fake_openai.requests if "Summarise this part only" in
                     r["body"]["messages"][1]["content"]]
    assert len(summary_calls) == 5
    assert any("Write the summary of the whole meeting" in r["body"]["messages"][1]["content"]
               for r in fake_openai.requests)
    assert max(len(r["body"]["messages"][1]["content"]) for r in fake_openai.requests) < 2000 * 4 + 1000
    # Beyond the budget, the local analysis still contributes what it found later in the meeting.
    assert any(a.description not in {i["description"] for i in LLM_REPLY["action_items"]} for a in items)


def test_eval_hook_runs_the_provider_path(fake_openai, settings):
    from integrations.llm.providers import ProviderError
    from meetings.analysis import Utterance
    from meetings.intelligence.llm_analysis import analyze_with_provider
    from tests.intelligence.factories import sales_call_data

    data = sales_call_data()
    utterances = [Utterance(u["speaker"], u["text"], u["start"], u["end"]) for u in data["utterances"]]
    local = analyze_with_provider(utterances, provider="local")
    assert len(local.action_items) == 4
    with pytest.raises(ProviderError):  # not configured: no silent local result under the "llm" name
        analyze_with_provider(utterances, provider="llm")
    fake_openai.configure(settings)
    fake_openai.reply(json.dumps(LLM_REPLY))
    result = analyze_with_provider(utterances, provider="llm", participants=[p["name"] for p in data["participants"]])
    assert [a.description for a in result.action_items] == [i["description"] for i in LLM_REPLY["action_items"]]
    assert result.short_summary == LLM_REPLY["short_summary"] and len(result.talk_time) == 4
    fake_openai.fail(500)
    with pytest.raises(ProviderError) as caught:
        analyze_with_provider(utterances, provider="llm")
    assert caught.value.reason == "http 500"
