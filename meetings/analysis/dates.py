"""Due-date phrases resolved against the meeting date.

Conventions (documented in docs/analysis.md, and the gold labels follow them):
- "Friday", "by Friday", "this Friday": the Friday on or after the meeting date.
- "next Friday": the first Friday after the meeting date that falls in a later calendar week
  (on a Wednesday, "next Monday" is five days later and "next Friday" nine days later).
- "end of week"/"EOW"/"this week": the Friday on or after the meeting date.
- "next week"/"end of next week": Friday of the following week; "early next week": its Monday.
- "today"/"EOD"/"tonight"/"after the call": the meeting date; "tomorrow": the day after.
- "end of month"/"EOM"/"this month": the month's last day; "next month": next month's last day;
  "end of quarter", "end of year" likewise.
- "in two weeks", "within 3 days", "in a couple of weeks": added to the meeting date.
- "by the 15th": the next 15th on or after the meeting date; "March 3rd", "3/14", "2025-03-14": that date,
  in the meeting's year unless that is more than 30 days in the past.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

WEEKDAYS = {
    "monday": 0, "mon": 0, "tuesday": 1, "tue": 1, "tues": 1, "wednesday": 2, "wed": 2, "thursday": 3,
    "thu": 3, "thur": 3, "thurs": 3, "friday": 4, "fri": 4, "saturday": 5, "sat": 5, "sunday": 6, "sun": 6,
}
MONTHS = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4, "may": 5,
    "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9, "sept": 9, "sep": 9,
    "october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12, "dec": 12,
}
_ORDINAL_WORDS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
    "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14, "fifteenth": 15,
    "sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19, "twentieth": 20, "thirtieth": 30,
}
for _unit, _n in list(_ORDINAL_WORDS.items())[:9]:
    _ORDINAL_WORDS[f"twenty {_unit}"] = 20 + _n
    _ORDINAL_WORDS[f"twenty-{_unit}"] = 20 + _n
_ORDINAL_WORDS["thirty first"] = _ORDINAL_WORDS["thirty-first"] = 31
_SMALL_NUMBERS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fourteen": 14, "thirty": 30, "a couple of": 2,
    "a couple": 2, "couple of": 2, "a few": 3, "few": 3,
}

_WD = (
    r"(?P<wd>mon(?:day)?|tue(?:s(?:day)?)?|wed(?:nesday)?|thu(?:r(?:s(?:day)?)?)?|fri(?:day)?|sat(?:urday)?"
    r"|sun(?:day)?)"
)
_MON = (
    r"(?P<mon>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?"
    r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_ORD = "|".join(sorted((re.escape(k) for k in _ORDINAL_WORDS), key=len, reverse=True))
_DAY = rf"(?P<day>\d{{1,2}})(?:st|nd|rd|th)?|(?P<dayw>{_ORD})"
_NUM = "|".join(sorted((re.escape(k) for k in _SMALL_NUMBERS), key=len, reverse=True))

_PATTERNS: list[tuple[str, re.Pattern]] = [
    ("iso", re.compile(r"\b(?P<y>20\d\d)-(?P<m>\d{1,2})-(?P<d>\d{1,2})\b")),
    ("mdy", re.compile(r"\b(?P<m>1[0-2]|0?[1-9])/(?P<d>3[01]|[12]\d|0?[1-9])(?:/(?P<y>\d{2}|\d{4}))?\b")),
    ("month_day", re.compile(rf"\b{_MON}\.?\s+(?:the\s+)?(?:{_DAY})\b(?:,?\s+(?P<y>20\d\d))?", re.I)),
    ("day_month", re.compile(rf"\b(?:the\s+)?(?:{_DAY})\s+(?:of\s+)?{_MON}\b(?:,?\s+(?P<y>20\d\d))?", re.I)),
    ("end_of_month_named", re.compile(rf"\b(?:end|close)\s+of\s+{_MON}\b", re.I)),
    ("day_only", re.compile(
        rf"\b(?:by|on|before|until|till|due|for)\s+the\s+(?:{_DAY})\b(?!\s+(?:year|time|quarter|month|week|day|"
        r"phase|step|round|half|one|two|three|thing|item|version|draft|sprint|meeting|call|place|part|few|couple))",
        re.I)),
    ("today", re.compile(
        r"\b(?:today|tonight|eod|cob|end\s+of\s+(?:the\s+)?(?:business\s+)?day|close\s+of\s+business|"
        r"this\s+(?:morning|afternoon|evening)|right\s+away|right\s+after\s+(?:this|the)?\s*"
        r"(?:call|meeting|standup|stand-up|sync)|after\s+(?:the|this|our)\s+(?:call|meeting))\b", re.I)),
    ("tomorrow", re.compile(r"\b(?P<after>day\s+after\s+)?tomorrow\b", re.I)),
    ("weekday_next_week", re.compile(rf"\b{_WD}\s+(?:of\s+)?next\s+week\b", re.I)),
    ("next_week_part", re.compile(
        r"\b(?P<part>early|beginning\s+of|start\s+of|mid|middle\s+of|late|end\s+of|the\s+end\s+of)?\s*"
        r"(?:the\s+)?next\s+week\b", re.I)),
    ("this_week", re.compile(
        r"\b(?:(?:the\s+)?end\s+of\s+(?:the\s+|this\s+)?week|eow|this\s+week|by\s+the\s+weekend|"
        r"end\s+of\s+week)\b", re.I)),
    ("weekday", re.compile(rf"\b(?P<mod>next|this|coming|last|since|past|previous)?\s*{_WD}\b", re.I)),
    ("month", re.compile(
        r"\b(?:(?P<part>end\s+of\s+)(?:(?P<which>this|next|the)\s+)?month|(?P<which2>this|next)\s+month|"
        r"eom|month[-\s]end)\b", re.I)),
    ("quarter", re.compile(
        r"\b(?:end\s+of\s+(?:the\s+)?(?P<which>this\s+|next\s+)?quarter|eoq|quarter[-\s]end|this\s+quarter)\b",
        re.I)),
    ("year", re.compile(r"\b(?:end\s+of\s+(?:the\s+)?year|eoy|year[-\s]end|this\s+year)\b", re.I)),
    ("relative", re.compile(
        rf"\b(?:in|within|inside\s+of)\s+(?:the\s+next\s+)?(?P<n>\d+|{_NUM})\s+(?P<biz>business\s+|working\s+)?"
        r"(?P<unit>days?|weeks?|months?|hours?)\b", re.I)),
    ("from_now", re.compile(
        rf"\b(?P<n>\d+|{_NUM})\s+(?P<unit>days?|weeks?|months?)\s+from\s+(?:now|today)\b", re.I)),
]
_DEADLINE_CUE = re.compile(r"\b(?:by|before|until|till|no\s+later\s+than|due|deadline|latest)\s*(?:the\s+)?$", re.I)


def _last_day(y: int, m: int) -> date:
    return date(y, m, calendar.monthrange(y, m)[1])


def _add_months(d: date, n: int) -> date:
    m = d.month - 1 + n
    y, m = d.year + m // 12, m % 12 + 1
    return date(y, m, min(d.day, calendar.monthrange(y, m)[1]))


def _on_or_after(d: date, weekday: int) -> date:
    return d + timedelta(days=(weekday - d.weekday()) % 7)


def _monday_next_week(d: date) -> date:
    return d - timedelta(days=d.weekday()) + timedelta(days=7)


def _infer_year(meeting_date: date, month: int, day: int, year: str | None) -> date | None:
    try:
        if year:
            y = int(year)
            return date(y + 2000 if y < 100 else y, month, day)
        candidate = date(meeting_date.year, month, day)
        if candidate < meeting_date - timedelta(days=30):
            candidate = date(meeting_date.year + 1, month, day)
        return candidate
    except ValueError:
        return None


def _day_number(m: re.Match) -> int | None:
    if m.group("day"):
        return int(m.group("day"))
    if m.group("dayw"):
        return _ORDINAL_WORDS.get(m.group("dayw").lower().replace("  ", " "))
    return None


def _count(token: str) -> int:
    token = token.lower()
    return int(token) if token.isdigit() else _SMALL_NUMBERS.get(token, 1)


def _resolve(kind: str, m: re.Match, d: date) -> date | None:
    if kind == "iso":
        try:
            return date(int(m["y"]), int(m["m"]), int(m["d"]))
        except ValueError:
            return None
    if kind == "mdy":
        return _infer_year(d, int(m["m"]), int(m["d"]), m["y"])
    if kind in ("month_day", "day_month"):
        day = _day_number(m)
        return _infer_year(d, MONTHS[m["mon"].lower().rstrip(".")], day, m["y"]) if day else None
    if kind == "end_of_month_named":
        month = MONTHS[m["mon"].lower()]
        y = d.year + (1 if month < d.month - 1 else 0)
        return _last_day(y, month)
    if kind == "day_only":
        day = _day_number(m)
        if not day or day > 31:
            return None
        probe = d
        for _ in range(3):  # the next month that has that day
            try:
                candidate = probe.replace(day=day)
            except ValueError:
                candidate = None
            if candidate and candidate >= d:
                return candidate
            probe = _add_months(probe.replace(day=1), 1)
        return None
    if kind == "today":
        return d
    if kind == "tomorrow":
        return d + timedelta(days=2 if m["after"] else 1)
    if kind == "next_week_part":
        monday = _monday_next_week(d)
        part = (m["part"] or "").lower()
        if part.startswith(("early", "beginning", "start")):
            return monday
        if part.startswith(("mid", "middle")):
            return monday + timedelta(days=2)
        return monday + timedelta(days=4)
    if kind == "this_week":
        return _on_or_after(d, 4)
    if kind == "weekday_next_week":
        return _monday_next_week(d) + timedelta(days=WEEKDAYS[m["wd"].lower()])
    if kind == "weekday":
        mod = (m["mod"] or "").lower()
        if mod in ("last", "since", "past", "previous"):
            return None
        wd = WEEKDAYS[m["wd"].lower()]
        if mod == "next":
            candidate = _on_or_after(d + timedelta(days=1), wd)
            if candidate.isocalendar()[:2] == d.isocalendar()[:2]:
                candidate += timedelta(days=7)
            return candidate
        return _on_or_after(d, wd)
    if kind == "month":
        if (m["which"] or m["which2"] or "").lower() == "next":
            nxt = _add_months(d.replace(day=1), 1)
            return _last_day(nxt.year, nxt.month)
        return _last_day(d.year, d.month)
    if kind == "quarter":
        q_end_month = ((d.month - 1) // 3 + 1) * 3
        end = _last_day(d.year, q_end_month)
        if m["which"] and m["which"].strip().lower() == "next":
            nxt = _add_months(end.replace(day=1), 3)
            end = _last_day(nxt.year, nxt.month)
        return end
    if kind == "year":
        return date(d.year, 12, 31)
    if kind in ("relative", "from_now"):
        n = _count(m["n"])
        unit = m["unit"].lower().rstrip("s")
        if unit == "hour":
            return d + timedelta(days=max(0, (n + 23) // 24 - (1 if n < 24 else 0)))
        if unit == "day":
            if kind == "relative" and m["biz"]:
                out, left = d, n
                while left:
                    out += timedelta(days=1)
                    if out.weekday() < 5:
                        left -= 1
                return out
            return d + timedelta(days=n)
        if unit == "week":
            return d + timedelta(weeks=n)
        if unit == "month":
            return _add_months(d, n)
    return None


def find_due_dates(text: str, *, meeting_date: date) -> list[tuple[int, int, date, bool]]:
    """Every due-date phrase in ``text``: (start, end, resolved date, preceded by a deadline cue)."""
    found: list[tuple[int, int, date, bool]] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in _PATTERNS:
        for m in pattern.finditer(text):
            s, e = m.span()
            if s == e or any(s < te and ts < e for ts, te in taken):
                continue
            # short forms collide with words ("sat", "sun", "wed") unless capitalised
            if kind == "weekday" and m["mod"] is None and m["wd"].lower() in ("sat", "sun", "wed") \
                    and not text[m.start("wd")].isupper():
                continue
            if kind == "weekday" and m["wd"].lower() == "may":
                continue
            resolved = _resolve(kind, m, meeting_date)
            taken.append((s, e))
            if resolved is None:
                continue
            cue = bool(_DEADLINE_CUE.search(text[max(0, s - 24) : s]))
            if kind == "mdy" and not (cue or re.search(r"\bon\s*$", text[max(0, s - 8) : s], re.I)):
                continue  # "1/2" alone is more often a fraction than a date
            if kind == "day_only":
                cue = m.group(0).split()[0].lower() in ("by", "before", "until", "till", "due")
            found.append((s, e, resolved, cue))
    found.sort()
    return found


def resolve_due_date(phrase_or_text: str, *, meeting_date: date) -> date | None:
    """The due date a phrase or a whole sentence names, or None.

    When a sentence names several, a phrase after "by"/"before"/"until"/"due" wins, else the first one.
    """
    found = find_due_dates(phrase_or_text, meeting_date=meeting_date)
    if not found:
        return None
    cued = [f for f in found if f[3]]
    return (cued or found)[0][2]
