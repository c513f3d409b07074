"""Spoken numbers and fact-checking them against documents, with regression cases from real meetings.

The utterances and decision sentences below are copied from the AMI Meeting Corpus (ES dev meetings
ES2002a, ES2007a, ES2008a, ES2008d; CC BY 4.0, AMI Meeting Corpus, University of Edinburgh / IDIAP /
TNO et al.). Each decisions document is the meeting's gold decision sentences joined, as in
eval/real/factcheck.py.
"""

import pytest

from meetings.analysis.facts import Passage, fact_check_text, mentions
from meetings.analysis.numbers import (
    check_claim_against_passage,
    extract_numeric_claims,
    parse_spoken_number,
    spoken_numbers,
)

ES2002A = ("The remote will sell for 25 Euro. The production costs cannot exceed 12.50 Euro. "
           "The remote will be sold on an international scale.")
ES2007A = ("The selling price of the remote will be 25 Euro. The profit aim will be 50 million Euro. "
           "The remote will be sold internationally. The production cost cannot exceed 12.50 Euro. "
           "The remote will control televisions and devices connected to televisions.")
ES2008A = ("The remote will be sold for 25 Euro. The profit aim is fifteen million Euro. The remote will be sold "
           "on an international scale. The maximum production cost for the remote is 12.50 Euro.")
ES2008D = ("The remote will resemble the potato prototype. The corporate logo will be on the remote. "
           "The remote will have six buttons. The buttons will all be one color.")


def _passages(*texts):
    return [Passage(text=t, document_id=i + 1, chunk_id=10 + i, title=f"doc {i + 1}") for i, t in enumerate(texts)]


def _alerts(verdicts):
    return [v for v in verdicts if v.verdict == "incorrect"]


# ---------------------------------------------------------------- number forms


@pytest.mark.parametrize(
    ("text", "value", "unit"),
    [
        ("twelve fifty Euros", 12.5, "EUR"),
        ("it can't cost any more than twelve fifty to make", 12.5, ""),
        ("twelve Euro fifty", 12.5, "EUR"),
        ("twelve Euros and fifty cents", 12.5, "EUR"),
        ("twelve and a half Euros per item", 12.5, "EUR"),
        ("twelve point five Euros per unit", 12.5, "EUR"),
        ("fifteen point five", 15.5, ""),
        ("one point five million", 1_500_000, ""),
        ("twenty-five", 25, ""),
        ("two and a half million", 2_500_000, ""),
        ("50K", 50_000, ""),
        ("ten percent", 10, "%"),
        ("a quarter of our customers", 25, "%"),
        ("three quarters of the budget", 75, "%"),
        ("$18.7M", 18_700_000, "USD"),
        ("about eighteen pounds", 18, "GBP"),
        ("fifty million Euros", 50_000_000, "EUR"),
        # disfluencies: fillers inside the number, restarts before it
        ("um so we're gonna be selling this for uh twenty five Euros", 25, "EUR"),
        ("twelve uh fifty Euro", 12.5, "EUR"),
        ("twenty twenty five Euro", 25, "EUR"),
        ("we want to sell this for for twenty five Euro um", 25, "EUR"),
    ],
)
def test_spoken_forms_and_units(text, value, unit):
    found = spoken_numbers(text)
    assert len(found) == 1, found
    assert found[0][0] == pytest.approx(value)
    assert found[0][1] == unit
    assert text[found[0][2][0]:found[0][2][1]].strip() == text[found[0][2][0]:found[0][2][1]]
    assert parse_spoken_number(text) == pytest.approx(value)


def test_fractions_alone_and_two_groups_without_money():
    assert parse_spoken_number("a quarter") == pytest.approx(0.25)
    assert parse_spoken_number("a half") == pytest.approx(0.5)
    # No money word anywhere: "twelve fifty" is two numbers, not 12.50.
    assert [v for v, _, _ in spoken_numbers("rooms twelve fifty and nine")] == [12, 50, 9]


def test_spoken_dates():
    dates = [c.value for c in extract_numeric_claims("The launch is on March the fifth, the review on the "
                                                     "twenty-first of June and sign-off on 3 July.")
             if c.unit == "date"]
    assert dates == [305, 621, 703]


def test_metric_is_read_from_the_nearest_words():
    said = mentions("we'd like to sell it for about twenty five Euro with the profit aim of um fifteen million "
                    "Euro um from our sales")
    assert [(m.value, m.unit, m.metric) for m in said] == [(25, "EUR", "price"), (15_000_000, "EUR", "profit")]
    doc = mentions(ES2007A)
    assert [(m.value, m.metric) for m in doc] == [(25, "price"), (50_000_000, "profit"), (12.5, "cost")]


# ---------------------------------------------------------------- real utterances against real documents


def test_right_figure_is_not_flagged():
    passages = _passages(ES2002A)
    for text in ("Um so according to the brief um we're gonna be selling this remote control for twenty five Euro,",
                 "And uh we don't want it to cost any more than uh twelve fifty Euros, so fifty percent of the "
                 "selling price."):
        verdicts = fact_check_text(text, passages)
        assert not _alerts(verdicts), verdicts
        assert any(v.verdict == "correct" for v in verdicts)


def test_changed_figure_is_caught_with_passage_and_value():
    passages = _passages(ES2007A)
    verdicts = fact_check_text("it's gotta be can't cost any more than fourteen fifty to make.", passages)
    (alert,) = _alerts(verdicts)
    assert alert.claimed_value == "14.5 EUR"
    assert alert.document_value == "12.5 EUR"
    assert alert.evidence == "The production cost cannot exceed 12.50 Euro."
    assert alert.passage.chunk_id == 10 and alert.passage.title == "doc 1"
    (alert,) = _alerts(fact_check_text("profit aim sixty million Euros.", passages))
    assert alert.document_value == "50 million EUR"
    assert alert.evidence == "The profit aim will be 50 million Euro."


def test_selling_price_and_production_cost_are_not_confused():
    passages = _passages(ES2002A)
    # 12.50 is in the document, but as the production cost: said as the selling price it is wrong.
    (alert,) = _alerts(fact_check_text("Um so according to the brief um we're gonna be selling this remote "
                                       "control for twelve fifty Euro,", passages))
    assert (alert.document_value, alert.evidence) == ("25 EUR", "The remote will sell for 25 Euro.")
    (alert,) = _alerts(fact_check_text("And uh we don't want it to cost any more than uh twenty five Euros.",
                                       passages))
    assert alert.document_value == "12.5 EUR"
    assert "production costs" in alert.evidence
    # the old nearest-passage logic called both of these right
    claim = extract_numeric_claims("we're gonna be selling this remote control for twelve fifty Euro")[0]
    assert claim.value == 12.5


def test_metric_the_documents_do_not_have_gives_no_alert():
    passages = _passages(ES2002A)
    assert fact_check_text("um and we're aiming to make fifty million Euro.", passages) == []
    assert fact_check_text("The marketing budget is two thousand Euros.", passages) == []
    assert fact_check_text("Churn was four percent last quarter.", passages) == []


def test_the_right_passage_is_cited_among_several():
    passages = _passages(ES2008A, ES2002A)
    (alert,) = _alerts(fact_check_text("we'd like to sell it for about twenty five Euro with the profit aim of um "
                                       "seventeen million Euro um from our sales", passages))
    assert alert.document_value == "15 million EUR"
    assert alert.passage.chunk_id == 10 and alert.metric == "profit"


def test_context_gives_a_bare_figure_its_subject():
    passages = _passages(ES2008D)
    context = "Yeah. And how many buttons do we have?"
    assert fact_check_text("We have eight.", passages) == []
    (alert,) = _alerts(fact_check_text("We have eight.", passages, context=context))
    assert (alert.claimed_value, alert.document_value) == ("8", "6")
    assert [v.verdict for v in fact_check_text("We have six.", passages, context=context)] == ["correct"]


def test_periods_and_currencies_must_agree():
    report = "Q2 revenue was $19.9 million. Q3 revenue was $21.3 million, up 12% year over year."
    (alert,) = _alerts(fact_check_text("Our Q3 revenue was eighteen point seven million dollars.",
                                       _passages(report)))
    assert alert.document_value == "21.3 million" and "Q3 revenue" in alert.evidence
    assert [v.verdict for v in fact_check_text("Q2 revenue was nineteen point nine million dollars.",
                                               _passages(report))] == ["correct"]
    assert fact_check_text("The remote will sell for 25 dollars.", _passages(ES2002A)) == []


def test_existing_passage_check_still_works_with_spoken_money():
    claim = next(c for c in extract_numeric_claims("we're gonna be selling it for twenty five Euros") if c.value == 25)
    check = check_claim_against_passage(claim, ES2002A)
    assert check.verdict == "correct"
