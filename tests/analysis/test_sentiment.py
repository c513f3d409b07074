import pytest

from meetings.analysis import sentiment_score


def test_positive_negative_neutral():
    assert sentiment_score("This is great, thanks so much!") > 0.5
    assert sentiment_score("The outage was a disaster and the team is frustrated.") < -0.5
    assert sentiment_score("The meeting is at three on Tuesday.") == 0.0
    assert sentiment_score("") == 0.0


def test_negation_flips_and_dampens():
    assert sentiment_score("This is good.") > 0
    assert sentiment_score("This is not good.") < 0
    assert sentiment_score("I'm not worried at all.") > 0


def test_intensifiers_and_diminishers():
    assert sentiment_score("The demo was really great.") > sentiment_score("The demo was great.")
    assert sentiment_score("We're slightly behind.") > sentiment_score("We're behind.")


def test_but_shifts_weight_to_the_second_clause():
    assert sentiment_score("The product is good but the pricing is a real problem.") < 0
    assert sentiment_score("Pricing is a problem but the product is excellent.") > 0


def test_phrases_and_negation_scope():
    assert sentiment_score("No problem, happy to help.") > 0.3
    assert sentiment_score("It went well.") > 0


@pytest.mark.parametrize("text", ["terrible awful horrible disaster " * 20, "amazing excellent perfect " * 20])
def test_bounded(text):
    assert -1.0 <= sentiment_score(text) <= 1.0
