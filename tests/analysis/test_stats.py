import json
from pathlib import Path

import pytest

from meetings.analysis import Utterance, infer_speaker_roles, talk_time_stats

DATA = Path(__file__).parent / "data" / "sales_call.json"


def test_talk_time_turns_and_monologues():
    utterances = [
        Utterance("Ann", "Hi all, let's start with the numbers.", 0, 10),
        Utterance("Ann", "Revenue was up this quarter, what do you think?", 10, 30),
        Utterance("Bob", "Looks good to me.", 31, 35),
        Utterance("Ann", "Great.", 36, 37),
        Utterance("Bob", "One more thing about churn that I wanted to raise with everyone here today.", 38, 58),
    ]
    stats = {s.speaker: s for s in talk_time_stats(utterances)}
    ann, bob = stats["Ann"], stats["Bob"]
    assert ann.speaking_seconds == pytest.approx(31)
    assert bob.speaking_seconds == pytest.approx(24)
    assert ann.share + bob.share == pytest.approx(1.0, abs=1e-3)
    assert ann.turns == 2 and bob.turns == 2
    assert ann.longest_monologue_seconds == pytest.approx(30)  # the two back-to-back utterances
    assert bob.longest_monologue_seconds == pytest.approx(20)
    assert ann.questions_asked == 1 and bob.questions_asked == 0
    assert ann.words == 17
    assert ann.words_per_minute == pytest.approx(17 / (31 / 60), rel=0.01)
    assert [s.speaker for s in talk_time_stats(utterances)] == ["Ann", "Bob"]


def test_talk_time_without_timings_uses_word_counts():
    stats = talk_time_stats([Utterance("A", "one two three four five"), Utterance("B", "one two")])
    assert stats[0].speaker == "A"
    assert stats[0].speaking_seconds == pytest.approx(2.0)


def _fixture():
    data = json.loads(DATA.read_text())
    utterances = [Utterance(u["speaker"], u["text"], u["start"], u["end"]) for u in data["utterances"]]
    emails = {p["name"]: p["email"] for p in data["participants"]}
    return data, utterances, emails


def test_roles_from_email_domains():
    data, utterances, emails = _fixture()
    roles = infer_speaker_roles(utterances, participant_emails=emails, company_domain="acme.test")
    assert roles == data["gold"]["speaker_roles"]


def test_roles_all_internal():
    _, utterances, emails = _fixture()
    internal = {name: f"{name.split()[0].lower()}@acme.test" for name in emails}
    roles = infer_speaker_roles(utterances, participant_emails=internal, company_domain="acme.test")
    assert set(roles.values()) == {"internal"}


def test_roles_from_questions_when_no_emails():
    utterances = [
        Utterance("Buyer", "How does pricing work for 50 seats?"),
        Utterance("Seller", "It is 40 dollars per seat per month, billed annually."),
        Utterance("Buyer", "Do you support single sign-on with Okta?"),
        Utterance("Seller", "Yes, we support SAML and SCIM with Okta out of the box."),
        Utterance("Buyer", "Where is our data stored?"),
        Utterance("Seller", "In the EU region, encrypted at rest."),
    ]
    roles = infer_speaker_roles(utterances)
    assert roles == {"Buyer": "customer", "Seller": "consultant"}


def test_roles_single_speaker_stays_unknown():
    utterances = [Utterance("Solo", "What should I do? How does this work? Why is it slow?")]
    assert infer_speaker_roles(utterances) == {"Solo": "unknown"}
