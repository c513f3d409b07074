import json
import random
from datetime import date
from pathlib import Path

import pytest

from meetings.analysis import Utterance, analyze_transcript
from meetings.analysis.transcript import answered_questions, contextual_action_items, contextual_decisions

DATA = Path(__file__).parent / "data" / "sales_call.json"
MEETING = date(2025, 5, 22)  # Thursday


def _sales_call():
    data = json.loads(DATA.read_text())
    utterances = [Utterance(u["speaker"], u["text"], u["start"], u["end"], segment_id=i)
                  for i, u in enumerate(data["utterances"])]
    return data, utterances


@pytest.fixture(scope="module")
def sales_analysis():
    data, utterances = _sales_call()
    analysis = analyze_transcript(utterances, meeting_date=date.fromisoformat(data["meeting_date"]),
                                  participants=[p["name"] for p in data["participants"]])
    return data, utterances, analysis


def test_sales_call_action_items_match_the_known_answers(sales_analysis):
    data, _, analysis = sales_analysis
    got = {(a.assignee_name, a.due_date.isoformat() if a.due_date else None) for a in analysis.action_items}
    for gold in data["gold"]["action_items"]:
        if gold["due_date"]:
            assert (gold["assignee"], gold["due_date"]) in got, gold
    proposal = next(a for a in analysis.action_items if a.assignee_name == "Dana Whitfield" and a.due_date)
    assert "revised proposal" in proposal.description
    assert proposal.segment_id is not None
    assert len({a.dedupe_key for a in analysis.action_items}) == len(analysis.action_items)
    # the recap at the end restates three items; it must not add copies
    assert len(analysis.action_items) <= 5


def test_sales_call_decision_question_claim_and_roles(sales_analysis):
    data, utterances, analysis = sales_analysis
    assert [d.text for d in analysis.decisions] == ["Go with a 60 day pilot for the finance team first"]
    security = next(q for q in analysis.questions if "encrypted at rest" in q.text)
    assert security.asker == "Riley Chen" and security.answered
    assert utterances[security.answered_by].speaker == "Sam Patel"
    pricing = next(q for q in analysis.questions if "How much would 200 seats cost" in q.text)
    assert pricing.asker == "Morgan Lee" and pricing.answered
    revenue = next(c for c in analysis.numeric_claims if c.metric == "q3 revenue")
    assert revenue.value == pytest.approx(18_700_000)
    assert revenue.unit == "USD"
    assert revenue.raw == "eighteen point seven million dollars"


def test_sales_call_summaries_and_email(sales_analysis):
    _, _, analysis = sales_analysis
    assert 2 <= analysis.short_summary.count(".") <= 6
    assert 1 <= len(analysis.key_points) <= 10
    assert any("eighteen point seven million" in k for k in analysis.key_points)
    assert analysis.detailed_summary.count("\n\n") == len(analysis.topics) - 1
    email = analysis.follow_up_email
    assert email.startswith("Hi all,")
    assert "Thanks" in email
    assert "Decisions" in email and "60 day pilot" in email
    assert "Dana Whitfield, due Fri 23 May 2025" in email
    assert "Sam Patel, due Wed 28 May 2025" in email
    assert -1 <= analysis.sentiment["overall"] <= 1
    assert set(analysis.sentiment["per_participant"]) == {"Dana Whitfield", "Morgan Lee", "Riley Chen", "Sam Patel"}
    assert analysis.sentiment["timeline"]
    assert sum(t.share for t in analysis.talk_time) == pytest.approx(1.0, abs=1e-3)
    topic_indexes = [i for t in analysis.topics for i in t["utterance_indexes"]]
    assert topic_indexes == list(range(len(topic_indexes)))


def _u(speaker, text, i):
    return Utterance(speaker, text, start=i * 10.0, end=i * 10.0 + 8)


def _conversation(*lines):
    return [_u(s, t, i) for i, (s, t) in enumerate(lines)]


NAMES = ["Rachel Adams", "Mike Sullivan", "Victor Huang"]


def test_commitment_claims_the_request_and_sets_the_due_date():
    utterances = _conversation(
        ("Rachel Adams", "Can you send the incident logs from March?"),
        ("Mike Sullivan", "Sure, I'll have them to you by Monday."),
    )
    found = contextual_action_items(utterances, meeting_date=MEETING, participants=NAMES)
    assert len(found) == 1
    assert found[0].assignee_name == "Mike Sullivan"
    assert found[0].due_date == date(2025, 5, 26)
    assert "incident logs" in found[0].description


def test_will_do_and_date_follow_ups():
    utterances = _conversation(
        ("Rachel Adams", "Mike, please send us the redlined contract with the new terms."),
        ("Mike Sullivan", "I will. Is end of next week okay for the redlines?"),
        ("Rachel Adams", "That's too late. We need them by Wednesday."),
        ("Mike Sullivan", "Okay, Wednesday it is."),
        ("Victor Huang", "Can someone write up the meeting notes?"),
        ("Rachel Adams", "Will do."),
    )
    found = contextual_action_items(utterances, meeting_date=MEETING, participants=NAMES)
    contract = next(a for a in found if "redlined contract" in a.description)
    assert contract.assignee_name == "Mike Sullivan"
    assert contract.due_date == date(2025, 5, 28)
    notes = next(a for a in found if "meeting notes" in a.description)
    assert notes.assignee_name == "Rachel Adams"


def test_answer_to_a_different_question_does_not_set_a_due_date():
    utterances = _conversation(
        ("Rachel Adams", "Victor, could you schedule the follow up study?"),
        ("Victor Huang", "Will do."),
        ("Mike Sullivan", "When are we targeting launch?"),
        ("Rachel Adams", "October 6th."),
    )
    found = contextual_action_items(utterances, meeting_date=MEETING, participants=NAMES)
    assert [(a.assignee_name, a.due_date) for a in found] == [("Victor Huang", None)]


def test_vague_commitment_without_referent_is_dropped_and_recap_is_not_duplicated():
    utterances = _conversation(
        ("Victor Huang", "Honestly I'll take care of it."),
        ("Mike Sullivan", "I'll send the pricing sheet to Rachel by Friday."),
        ("Rachel Adams", "To recap, Mike sends the pricing sheet by Friday."),
    )
    found = contextual_action_items(utterances, meeting_date=MEETING, participants=NAMES)
    assert [(a.description, a.assignee_name) for a in found] == [("Send the pricing sheet to Rachel", "Mike Sullivan")]


def test_pronoun_resolved_from_what_was_just_said():
    utterances = _conversation(
        ("Rachel Adams", "We'll need your current spreadsheets for the six farms to build the import."),
        ("Victor Huang", "I'll have my team gather them."),
    )
    found = contextual_action_items(utterances, meeting_date=MEETING, participants=NAMES)
    assert [a.description for a in found] == ["Gather the current spreadsheets for the six farms"]
    assert found[0].assignee_name == "Victor Huang"


def test_referent_decision_and_confirmation_are_resolved_and_deduped():
    utterances = _conversation(
        ("Victor Huang", "Probably a day or two. I can split the suite into four shards on CI."),
        ("Rachel Adams", "Let's do it."),
        ("Mike Sullivan", "Let's go with the annual plan for the renewal."),
        ("Victor Huang", "Agreed."),
        ("Rachel Adams", "So to recap, we're going with the annual plan for the renewal."),
    )
    decisions = contextual_decisions(utterances)
    assert [d.text for d in decisions] == ["Split the suite into four shards on CI",
                                           "Go with the annual plan for the renewal"]
    assert decisions[1].confidence > 0.85  # repeated, so more certain


def test_answered_questions():
    utterances = _conversation(
        ("Ann", "Where is the data stored?"),
        ("Bob", "In the EU region, encrypted at rest with AES."),
        ("Ann", "Do you support Okta?"),
        ("Ann", "Also, what about SCIM provisioning?"),
        ("Bob", "Good question."),
        ("Cid", "Let me check on that."),
        ("Bob", "Can you send me the roadmap?"),
    )
    result = {q.text: q for q in answered_questions(utterances)}
    assert result["Where is the data stored?"].answered
    assert result["Where is the data stored?"].answered_by == 1
    assert not result["Do you support Okta?"].answered  # the asker moved straight on
    assert not result["What about SCIM provisioning?"].answered  # no substantive reply
    assert "Can you send me the roadmap?" not in result  # a request, not a question


def _two_hour_transcript(n=2000, seed=7):
    rng = random.Random(seed)
    people = ["Avery Stone", "Blake Young", "Casey Ng", "Devon Hale", "Emery Cole"]
    topics = ["pricing", "security review", "hiring plan", "data migration", "mobile release", "vendor contract",
              "support backlog", "marketing launch"]
    templates = [
        "The {t} is the main thing this week and we need a clear owner.",
        "I'll send the {t} summary to {p} by Friday.",
        "{p}, can you review the {t} numbers before Monday?",
        "We decided to move the {t} deadline to next month.",
        "What is the status of the {t}?",
        "Revenue from the {t} was {n} thousand dollars last quarter, up {m} percent.",
        "Honestly I'm worried the {t} is slipping, it feels risky.",
        "Great progress on the {t}, the team did an excellent job.",
        "Let's go with option {m} for the {t}.",
        "Maybe we should revisit the {t} later.",
        "Yeah, I think that makes sense.",
        "Sure, will do.",
    ]
    utterances, t = [], 0.0
    for i in range(n):
        topic = topics[min(len(topics) - 1, i * len(topics) // n)]
        speaker = rng.choice(people)
        text = rng.choice(templates).format(t=topic, p=rng.choice(people).split()[0], n=rng.randint(10, 900),
                                            m=rng.randint(2, 40))
        duration = max(1.5, len(text.split()) / 2.5)
        utterances.append(Utterance(speaker, text, t, t + duration, segment_id=i))
        t += duration + rng.uniform(0.2, 2.0)
    return utterances, people


def test_two_hour_transcript_completes_with_sane_output():
    utterances, people = _two_hour_transcript()
    analysis = analyze_transcript(utterances, meeting_date=date(2025, 3, 12), participants=people)
    assert 0 < len(analysis.action_items) < len(utterances)
    assert all(0.0 < a.confidence <= 1.0 for a in analysis.action_items)  # calibrated: rule-only items are low
    assert len({a.dedupe_key for a in analysis.action_items}) == len(analysis.action_items)
    assert analysis.decisions
    assert 2 <= len(analysis.topics) <= 8
    assert analysis.topics[0]["start"] == 0.0
    assert analysis.topics[-1]["utterance_indexes"][-1] == len(utterances) - 1
    assert 1 <= len(analysis.key_points) <= 14
    assert len(analysis.talk_time) == len(people)
    assert sum(s.share for s in analysis.talk_time) == pytest.approx(1.0, abs=1e-3)
    assert analysis.questions and any(q.answered for q in analysis.questions)
    assert len(analysis.sentiment["timeline"]) >= 10
    assert analysis.follow_up_email.count("\n- ") >= len(analysis.action_items)


def test_empty_transcript():
    analysis = analyze_transcript([], meeting_date=MEETING)
    assert analysis.action_items == [] and analysis.topics == [] and analysis.key_points == []
    assert analysis.sentiment["overall"] == 0.0
