import numpy as np

from meetings.analysis import (
    Utterance,
    descriptions_match,
    extractive_summary,
    keyphrases,
    normalize_key,
    segment_topics,
)

PRICING = [
    "Let's start with pricing for the enterprise plan.",
    "The enterprise plan pricing is 45 dollars per seat per month.",
    "Annual billing gives a fifteen percent discount on the enterprise plan.",
    "Procurement wants the enterprise plan pricing in writing.",
    "Volume pricing kicks in above 500 seats.",
    "The enterprise plan pricing should include premium support.",
    "Competitor pricing is lower but excludes support.",
    "We decided to keep enterprise plan pricing at 45 dollars.",
    "Discount approvals above twenty percent need the CFO.",
    "Pricing pages need updating for the enterprise plan.",
]
HIRING = [
    "Moving on, let's talk about the hiring plan for engineering.",
    "We have three open engineering roles in the hiring plan.",
    "The backend candidate pipeline is thin this month.",
    "Recruiters sourced twelve backend candidates last week.",
    "Interview loops for engineering take too long.",
    "The hiring plan assumes two senior engineers by June.",
    "Referral bonuses could help the candidate pipeline.",
    "Engineering managers should own the interview loops.",
    "The hiring plan budget covers five engineering hires.",
    "Onboarding for new engineering hires takes four weeks.",
]


def _utterances(lines, offset=0):
    return [Utterance(["Ann", "Bob"][i % 2], t, (offset + i) * 10.0, (offset + i) * 10.0 + 8)
            for i, t in enumerate(lines)]


def test_keyphrases_rank_repeated_phrases_first():
    phrases = keyphrases(PRICING, top_n=5)
    assert phrases[0] == "enterprise plan pricing"
    assert len(phrases) == 5
    assert all(p == p.strip() and p for p in phrases)
    assert not {"the", "we", "let's"} & {w for p in phrases for w in p.split()}
    assert keyphrases([], top_n=3) == []


def test_segment_topics_finds_the_switch_with_tfidf():
    utterances = _utterances(PRICING) + _utterances(HIRING, offset=len(PRICING))
    topics = segment_topics(utterances, max_topics=4)
    assert len(topics) >= 2
    assert topics[1]["utterance_indexes"][0] == len(PRICING)
    assert "pricing" in topics[0]["title"].lower()
    assert "hiring" in " ".join(topics[1]["keyphrases"]) or "engineering" in " ".join(topics[1]["keyphrases"])
    assert [i for t in topics for i in t["utterance_indexes"]] == list(range(len(utterances)))
    assert topics[0]["start"] == 0.0 and topics[-1]["end"] == utterances[-1].end
    assert len(segment_topics(utterances, max_topics=1)) == 1


def test_segment_topics_uses_the_embedding_when_given():
    calls = []

    def embed(texts):
        calls.append(len(texts))
        return np.array([[1.0, 0.0] if "pric" in t.lower() or "discount" in t.lower() or "seat" in t.lower()
                         else [0.0, 1.0] for t in texts])

    utterances = _utterances(PRICING) + _utterances(HIRING, offset=len(PRICING))
    topics = segment_topics(utterances, embed=embed, max_topics=3)
    assert calls and calls[0] == len(utterances)
    assert topics[1]["utterance_indexes"][0] == len(PRICING)


def test_extractive_summary_prefers_decisions_and_keeps_order():
    utterances = _utterances(PRICING) + _utterances(HIRING, offset=len(PRICING))
    summary = extractive_summary(utterances, max_sentences=4)
    assert len(summary) == 4
    assert any("decided to keep enterprise plan pricing" in s for s in summary)
    positions = [next(i for i, u in enumerate(utterances) if s.rstrip(".") in u.text) for s in summary]
    assert positions == sorted(positions)


def test_extractive_summary_falls_back_when_the_embedding_fails():
    def broken(texts):
        raise RuntimeError("model not loaded")

    summary = extractive_summary(_utterances(PRICING), embed=broken, max_sentences=2)
    assert len(summary) == 2
    assert extractive_summary([], max_sentences=3) == []


def test_normalize_key_ignores_case_punctuation_stopwords_and_plural():
    key = normalize_key("Send the revised proposal to Acme!")
    assert key == normalize_key("send revised proposals to ACME")
    assert key != normalize_key("Send the original proposal to Acme")
    assert len(key) == 40 and int(key, 16) >= 0


def test_descriptions_match_for_live_dedupe():
    assert descriptions_match("Send the revised proposal", "Send the revised proposal with the pilot terms")
    assert descriptions_match("send revised proposals to ACME", "Send the revised proposal to Acme!")
    assert not descriptions_match("Send the verbal offer", "Send the written offer letter")
    assert not descriptions_match("Send it", "Review the deck")
