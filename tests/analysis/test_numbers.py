import pytest

from meetings.analysis import check_claim_against_passage, extract_numeric_claims, parse_spoken_number


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("eighteen point seven million", 18_700_000),
        ("eighteen point seven million dollars", 18_700_000),
        ("$18.7M", 18_700_000),
        ("18.7 million", 18_700_000),
        ("1,200", 1200),
        ("2.5k", 2500),
        ("twelve percent", 12),
        ("12%", 12),
        ("seventy-one", 71),
        ("forty two", 42),
        ("a million", 1_000_000),
        ("half a million", 500_000),
        ("two and a half million", 2_500_000),
        ("one hundred and twenty three thousand four hundred", 123_400),
        ("a dozen", 12),
        ("three billion", 3_000_000_000),
        ("point", None),
        ("no number here", None),
        ("Q3", None),
    ],
)
def test_parse_spoken_number(text, value):
    result = parse_spoken_number(text)
    if value is None:
        assert result is None
    else:
        assert result == pytest.approx(value)


def _only(text, unit):
    claims = [c for c in extract_numeric_claims(text) if c.unit == unit]
    assert len(claims) == 1, claims
    return claims[0]


def test_money_claim_with_metric_before_and_consistent_span():
    text = "For context, our Q3 revenue was eighteen point seven million dollars, and headcount is flat."
    claim = _only(text, "USD")
    assert claim.metric == "q3 revenue"
    assert claim.value == pytest.approx(18_700_000)
    assert claim.raw == "eighteen point seven million dollars"
    assert claim.text[claim.span[0] : claim.span[1]] == claim.raw


def test_percentages_counts_durations_and_years():
    assert _only("Churn is 4%.", "%").metric == "churn"
    assert _only("Churn is twelve percent this quarter.", "%").value == 12
    count = _only("We closed 340 new customers in Q2.", "count")
    assert (count.metric, count.value) == ("new customers", 340)
    duration = _only("The outage lasted about three hours.", "hours")
    assert duration.value == 3
    assert _only("Back in 2019 we moved to AWS.", "year").value == 2019


def test_names_times_and_versions_are_not_claims():
    text = "At 2:40 pm we deployed version 4.12, encrypted with AES-256 and TLS 1.3, and we are SOC 2 certified."
    assert extract_numeric_claims(text) == []
    assert extract_numeric_claims("One of the things we saw was odd.") == []


def test_from_to_shares_the_metric():
    claims = extract_numeric_claims("Active users grew from 180 to 236 this quarter.")
    assert [(c.metric, c.value) for c in claims] == [("active users", 180), ("active users", 236)]


CLAIM_TEXT = "Our Q3 revenue was eighteen point seven million dollars."


def _claim():
    return _only(CLAIM_TEXT, "USD")


def test_claim_correct_with_a_different_notation():
    check = check_claim_against_passage(_claim(), "In Q3, revenue was $18.7M, up 12% year over year.")
    assert check.verdict == "correct"
    assert check.claimed_value == "18.7 million"
    assert "18.7M" in check.evidence
    assert check.confidence > 0.5


def test_claim_correct_within_rounding():
    check = check_claim_against_passage(_claim(), "Q3 revenue totalled 18.65 million USD.")
    assert check.verdict == "correct"


def test_claim_incorrect_gives_the_corrected_value_for_the_same_period():
    passage = "Q2 revenue was $18.7M. Q3 revenue was $21.3M, a record quarter."
    check = check_claim_against_passage(_claim(), passage)
    assert check.verdict == "incorrect"
    assert check.corrected_value == "21.3 million"
    assert "Q3 revenue was $21.3M" in check.evidence


def test_claim_unverifiable_without_a_matching_metric_or_unit():
    for passage in ("Headcount grew to 340 people.", "Q3 churn was 4%.", "Q2 revenue was $17.1M."):
        check = check_claim_against_passage(_claim(), passage)
        assert check.verdict == "unverifiable", passage
        assert check.corrected_value == ""


def test_percentage_claim_checked_against_percentages_only():
    claim = _only("Churn is 4%.", "%")
    assert check_claim_against_passage(claim, "Monthly churn is 4.0% across plans.").verdict == "correct"
    wrong = check_claim_against_passage(claim, "Churn stands at 6% this year.")
    assert (wrong.verdict, wrong.corrected_value) == ("incorrect", "6%")
    assert check_claim_against_passage(claim, "Churn dropped after 4 releases.").verdict == "unverifiable"
