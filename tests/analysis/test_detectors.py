from datetime import date

import pytest

from meetings.analysis import (
    Utterance,
    detect_action_items,
    detect_decision,
    detect_question,
    normalize_key,
)

MEETING = date(2025, 5, 22)  # a Thursday
PEOPLE = ["Dana Whitfield", "Sam Patel", "Morgan Lee", "Priya Raman"]


def items(speaker, text, participants=PEOPLE):
    return detect_action_items(Utterance(speaker=speaker, text=text, segment_id=7), meeting_date=MEETING,
                               participants=participants)


def one(speaker, text):
    found = items(speaker, text)
    assert len(found) == 1, found
    return found[0]


# ---------------------------------------------------------------- action items: positives

def test_self_commitment_with_due_date():
    item = one("Dana Whitfield", "Great. I'll send the revised proposal to Acme by Friday.")
    assert item.description == "Send the revised proposal to Acme"
    assert item.assignee_name == "Dana Whitfield"
    assert item.due_date == date(2025, 5, 23)
    assert item.priority == "medium"
    assert item.confidence >= 0.8
    assert item.segment_id == 7
    assert item.dedupe_key == normalize_key("send revised proposal to Acme")


def test_request_to_a_named_addressee_with_priority_in_the_next_sentence():
    item = one("Dana Whitfield", "Priya, can you send me the security questionnaire by next Wednesday? It's urgent.")
    assert item.assignee_name == "Priya Raman"
    assert item.description == "Send Dana the security questionnaire"
    assert item.due_date == date(2025, 5, 28)
    assert item.priority == "high"


def test_name_at_the_end_and_please():
    item = one("Morgan Lee", "Please update the pricing page before the launch, Sam.")
    assert item.assignee_name == "Sam Patel"
    assert item.description.startswith("Update the pricing page")


def test_named_third_person_assignment_and_minutes_style():
    assert one("Dana Whitfield", "Sam will draft the migration plan by end of week.").assignee_name == "Sam Patel"
    marker = one("Dana Whitfield", "Action item: Morgan to book the venue by the 30th.")
    assert (marker.assignee_name, marker.description, marker.due_date) == ("Morgan Lee", "Book the venue",
                                                                           date(2025, 5, 30))


def test_low_priority_cue():
    item = one("Dana Whitfield", "Sam, could you refresh the screenshots when you get a chance?")
    assert item.priority == "low"
    assert item.assignee_name == "Sam Patel"
    assert item.description == "Refresh the screenshots"


def test_two_commitments_in_one_sentence():
    found = items("Sam Patel", "I'll ship the patch by Monday, and I'll send you the change ticket.")
    assert [i.description for i in found] == ["Ship the patch", "Send the change ticket"]
    assert found[0].due_date == date(2025, 5, 26)
    assert found[1].due_date is None


def test_vague_follow_up_in_the_same_utterance_lends_its_date():
    text = "I'll get finance to issue the credit memo and I'll email it to you by the end of the month."
    found = items("Sam Patel", text)
    assert len(found) == 1
    assert found[0].description == "Get finance to issue the credit memo"
    assert found[0].due_date == date(2025, 5, 31)


def test_unassigned_team_and_someone_items_have_low_confidence():
    team = one("Dana Whitfield", "We need to update the onboarding checklist.")
    assert team.assignee_name == ""
    assert team.confidence < 0.5
    someone = one("Dana Whitfield", "Can someone write up the incident report?")
    assert someone.assignee_name == ""


# ---------------------------------------------------------------- action items: negatives

@pytest.mark.parametrize(
    "text",
    [
        "I sent it yesterday.",
        "I already shared the deck with the team last week.",
        "If we ever win that deal, I would onboard them myself.",
        "What if we moved the launch to June?",
        "Let me share my screen.",
        "I'll be quick.",
        "I think the pricing is fair.",
        "Can you hear me?",
        "Could you walk me through the architecture?",
        "Should I send it over?",
        "Will you be at the offsite?",
        "I'd want to see a few sample invoices first.",
        "If you sign by June, I can offer two months free.",
        "I can't promise that today.",
        "We don't need to change anything.",
        "Let's not do that.",
        "I'd like a short summary I can send to customers.",
        "Let's go with the annual plan.",
    ],
)
def test_not_action_items(text):
    assert items("Dana Whitfield", text) == []


# ---------------------------------------------------------------- decisions

@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("We decided to move the launch to May 3.", "Move the launch to May 3"),
        ("Okay, we agreed that pricing stays at 40k.", "Pricing stays at 40k"),
        ("Let's go with a 60 day pilot for the finance team.", "Go with a 60 day pilot for the finance team"),
        ("The final decision is to keep guest checkout.", "Keep guest checkout"),
        ("We're going with Postgres for the event store.", "Go with Postgres for the event store"),
        ("The budget for the campaign is approved.", "The budget for the campaign is approved"),
        ("From now on, schema changes need a second reviewer.", "From now on, schema changes need a second reviewer"),
    ],
)
def test_decisions(text, expected):
    decision = detect_decision(Utterance(speaker="Morgan Lee", text=text))
    assert decision is not None
    assert decision.text == expected
    assert decision.confidence >= 0.6
    assert decision.dedupe_key == normalize_key(expected)


@pytest.mark.parametrize(
    "text",
    [
        "Maybe we should go with the annual plan.",
        "Should we go with Postgres?",
        "I think we should move the launch.",
        "We haven't decided on the vendor yet.",
        "Let's not decide that today.",
        "Let's talk about pricing.",
        "Let's get started.",
        "Last quarter we decided to freeze hiring.",
        "If the numbers hold up, we'll approve it as the third bet.",
        "Let's do it.",
        "We could go with either vendor.",
    ],
)
def test_not_decisions(text):
    assert detect_decision(Utterance(speaker="Morgan Lee", text=text)) is None


# ---------------------------------------------------------------- questions

def test_real_question():
    q = detect_question(Utterance(speaker="Riley Chen", text="Before pricing, my question is security. "
                                                             "Is our data encrypted at rest, and where is it stored?"))
    assert q.is_question
    assert q.asker == "Riley Chen"
    assert "encrypted at rest" in q.text
    assert q.confidence >= 0.8


@pytest.mark.parametrize(
    "text",
    [
        "That's the plan, right?",
        "Anything else?",
        "Can you hear me?",
        "Can you send me the deck after the call?",
        "How cool is that?",
    ],
)
def test_question_shaped_but_not_a_question(text):
    q = detect_question(Utterance(speaker="Riley Chen", text=text))
    assert q is not None
    assert q.is_question is False


def test_question_without_punctuation_and_embedded():
    assert detect_question(Utterance("A", "what does the rollout look like for the EU team")).is_question
    assert detect_question(Utterance("A", "I was wondering whether the API has rate limits.")).is_question


def test_statement_is_not_a_question():
    assert detect_question(Utterance("A", "What we need is a faster close.")) is None
    assert detect_question(Utterance("A", "The launch is on Friday.")) is None
