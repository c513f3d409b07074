from datetime import date

import pytest

from meetings.analysis import resolve_due_date

WEDNESDAY = date(2025, 3, 12)
FRIDAY = date(2025, 6, 27)


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("by Friday", date(2025, 3, 14)),
        ("this Friday", date(2025, 3, 14)),
        ("Wednesday", WEDNESDAY),  # the weekday on or after the meeting date
        ("next Monday", date(2025, 3, 17)),
        ("next Friday", date(2025, 3, 21)),  # the Friday of next week, not in two days
        ("Friday next week", date(2025, 3, 21)),
        ("end of week", date(2025, 3, 14)),
        ("by the end of the week", date(2025, 3, 14)),
        ("EOD", WEDNESDAY),
        ("by end of day", WEDNESDAY),
        ("today", WEDNESDAY),
        ("right after the call", WEDNESDAY),
        ("tomorrow", date(2025, 3, 13)),
        ("the day after tomorrow", date(2025, 3, 14)),
        ("next week", date(2025, 3, 21)),
        ("early next week", date(2025, 3, 17)),
        ("end of next week", date(2025, 3, 21)),
        ("end of month", date(2025, 3, 31)),
        ("by the end of the month", date(2025, 3, 31)),
        ("next month", date(2025, 4, 30)),
        ("end of the quarter", date(2025, 3, 31)),
        ("before year end", date(2025, 12, 31)),
        ("in two weeks", date(2025, 3, 26)),
        ("in 3 days", date(2025, 3, 15)),
        ("within 3 business days", date(2025, 3, 17)),
        ("a couple of weeks from now", date(2025, 3, 26)),
        ("by the 15th", date(2025, 3, 15)),
        ("by the 5th", date(2025, 4, 5)),  # the 5th of March has passed
        ("on March 3rd", date(2025, 3, 3)),
        ("on April 1st", date(2025, 4, 1)),
        ("the twenty first of March", date(2025, 3, 21)),
        ("January 5th", date(2026, 1, 5)),  # long past this year, so next year
        ("by 2025-04-01", date(2025, 4, 1)),
        ("on 3/14", date(2025, 3, 14)),
        ("by end of April", date(2025, 4, 30)),
    ],
)
def test_resolves_phrases_against_a_wednesday(phrase, expected):
    assert resolve_due_date(phrase, meeting_date=WEDNESDAY) == expected


def test_weekday_on_the_meeting_day_is_that_day_and_next_is_a_week_later():
    assert resolve_due_date("by Friday", meeting_date=FRIDAY) == FRIDAY
    assert resolve_due_date("next Friday", meeting_date=FRIDAY) == date(2025, 7, 4)
    assert resolve_due_date("next Wednesday", meeting_date=FRIDAY) == date(2025, 7, 2)


def test_month_end_rolls_over_the_year():
    assert resolve_due_date("next month", meeting_date=date(2025, 12, 3)) == date(2026, 1, 31)


def test_deadline_cue_wins_over_an_earlier_date_in_a_sentence():
    text = "After the offsite on the 20th I'll send the deck by Friday"
    assert resolve_due_date(text, meeting_date=WEDNESDAY) == date(2025, 3, 14)


@pytest.mark.parametrize(
    "text",
    [
        "I sent it last Friday",
        "we hold pricing flat for the first year",
        "no date in here",
        "the sat nav was wrong",
        "about 1/2 of the team",
        "Q3 revenue",
        "",
    ],
)
def test_no_due_date(text):
    assert resolve_due_date(text, meeting_date=WEDNESDAY) is None
