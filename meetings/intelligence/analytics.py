"""Analytics reads: the company overview, one meeting, one person. Plain data; charts are drawn from it.

Weeks start on Monday (ISO weeks) in the site's time zone. A meeting counts in the week it
started (scheduled start or creation time when it never started) and when it was held
(active or ended). Its length is ``ended_at - started_at`` when both are known, else the end of
its last transcript segment. Action items count as completed in the week they were last
updated while done (there is no separate completion time).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count, Max, Q
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.utils import timezone

from accounts.models import Company, Membership, User
from meetings.intelligence.search import moment_url
from meetings.models import ActionItem, Decision, Meeting, MeetingReport, Participant

OPEN_STATUSES = (ActionItem.Status.PENDING, ActionItem.Status.IN_PROGRESS)
TOP_SPEAKERS = 8


def _week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _local_day(moment: datetime | date) -> date:
    if isinstance(moment, datetime):
        return timezone.localdate(moment) if timezone.is_aware(moment) else moment.date()
    return moment


def week_buckets(*, weeks: int, today: date | None = None) -> list[date]:
    today = today or timezone.localdate()
    last = _week_start(today)
    return [last - timedelta(weeks=weeks - 1 - i) for i in range(weeks)]


def _since(first_week: date) -> datetime:
    return timezone.make_aware(datetime.combine(first_week, datetime.min.time()))


def week_start_moment(today: date | None = None) -> datetime:
    """This week's first moment (Monday 00:00 in the site's time zone), where its week bucket starts."""
    return _since(week_buckets(weeks=1, today=today)[0])


def sentiment_value(sentiment: Any) -> float | None:
    """The overall score of a stored sentiment, whatever shape the analysis gave it."""
    overall = sentiment.get("overall") if isinstance(sentiment, dict) else sentiment
    if isinstance(overall, dict):
        overall = overall.get("score", overall.get("value"))
    try:
        return None if overall is None else float(overall)
    except (TypeError, ValueError):
        return None


def _held_meetings(company: Company | int):
    return (Meeting.objects.for_company(company)
            .filter(status__in=[Meeting.Status.ACTIVE, Meeting.Status.ENDED])
            .annotate(moment=Coalesce("started_at", "scheduled_start", "created_at"),
                      last_segment_end=Max("segments__end_time")))


def meeting_hours(meeting: Any) -> float:
    if meeting.started_at and meeting.ended_at and meeting.ended_at > meeting.started_at:
        return (meeting.ended_at - meeting.started_at).total_seconds() / 3600
    return float(getattr(meeting, "last_segment_end", None) or 0) / 3600


def overview(*, company: Company, weeks: int = 12, today: date | None = None) -> dict[str, Any]:
    """Company-wide numbers per week over the last ``weeks`` weeks."""
    weeks = max(1, min(weeks, 104))
    buckets = week_buckets(weeks=weeks, today=today)
    today = today or timezone.localdate()
    since = _since(buckets[0])
    index = {week: i for i, week in enumerate(buckets)}

    meetings_per_week = [0] * weeks
    hours_per_week = [0.0] * weeks
    meeting_week: dict[int, int] = {}
    meetings = list(_held_meetings(company).filter(moment__gte=since).only(
        "id", "title", "started_at", "ended_at", "scheduled_start", "created_at"))
    for meeting in meetings:
        i = index.get(_week_start(_local_day(meeting.moment)))
        if i is None:
            continue
        meeting_week[meeting.pk] = i
        meetings_per_week[i] += 1
        hours_per_week[i] += meeting_hours(meeting)

    items = ActionItem.objects.for_company(company).filter(review="confirmed")  # tasks, not suggestions
    created = [0] * weeks
    for created_at in items.filter(created_at__gte=since).values_list("created_at", flat=True):
        i = index.get(_week_start(_local_day(created_at)))
        if i is not None:
            created[i] += 1
    completed = [0] * weeks
    for updated_at in items.filter(status=ActionItem.Status.DONE, updated_at__gte=since).values_list(
            "updated_at", flat=True):
        i = index.get(_week_start(_local_day(updated_at)))
        if i is not None:
            completed[i] += 1
    overdue_qs = items.filter(status__in=OPEN_STATUSES, due_date__lt=today).select_related("meeting")
    overdue_count = overdue_qs.count()
    overdue_list = [
        {"id": a.pk, "description": a.description, "assignee_name": a.assignee_name,
         "due_date": a.due_date.isoformat() if a.due_date else None, "meeting_id": a.meeting_id,
         "meeting_title": a.meeting.title, "days_overdue": (today - a.due_date).days}
        for a in overdue_qs.order_by("due_date")[:10]
    ]
    open_count = items.filter(status__in=OPEN_STATUSES).count()

    talk: dict[str, float] = defaultdict(float)
    for row in (Participant.objects.for_company(company).filter(meeting_id__in=list(meeting_week))
                .values("name", "user__full_name", "user__email", "speaking_seconds")):
        who = row["user__full_name"] or row["user__email"] or row["name"]
        talk[who] += float(row["speaking_seconds"] or 0)
    ranked = sorted(talk.items(), key=lambda kv: -kv[1])
    talk_time = [{"name": name, "seconds": round(seconds, 1)} for name, seconds in ranked[:TOP_SPEAKERS]]
    if len(ranked) > TOP_SPEAKERS:
        talk_time.append({"name": "Everyone else", "seconds": round(sum(s for _, s in ranked[TOP_SPEAKERS:]), 1)})

    sentiment_sum, sentiment_n = [0.0] * weeks, [0] * weeks
    unanswered_per_week = [0] * weeks
    unanswered: list[dict] = []
    reports = (MeetingReport.objects.for_company(company).filter(meeting_id__in=list(meeting_week), status="done")
               .select_related("meeting"))
    for report in reports:
        i = meeting_week[report.meeting_id]
        value = sentiment_value(report.sentiment)
        if value is not None:
            sentiment_sum[i] += value
            sentiment_n[i] += 1
        for q in report.questions or []:
            if isinstance(q, dict) and not q.get("answered"):
                unanswered_per_week[i] += 1
                unanswered.append({"text": q.get("text", ""), "asked_by": q.get("asked_by", ""),
                                   "meeting_id": report.meeting_id, "meeting_title": report.meeting.title,
                                   "url": moment_url(report.meeting_id, q.get("at"), q.get("segment_id")),
                                   "week": buckets[i].isoformat()})
    unanswered.sort(key=lambda q: q["week"], reverse=True)
    sentiment = [round(sentiment_sum[i] / sentiment_n[i], 3) if sentiment_n[i] else None for i in range(weeks)]
    return {
        "weeks": [w.isoformat() for w in buckets],
        "meetings_per_week": meetings_per_week,
        "hours_per_week": [round(h, 2) for h in hours_per_week],
        "action_items": {"created_per_week": created, "completed_per_week": completed, "open": open_count,
                         "overdue": overdue_count, "overdue_items": overdue_list},
        "talk_time": talk_time,
        "sentiment_per_week": sentiment,
        "unanswered_questions_per_week": unanswered_per_week,
        "unanswered_questions": unanswered[:15],
        "totals": {"meetings": sum(meetings_per_week), "hours": round(sum(hours_per_week), 2),
                   "unanswered_questions": sum(unanswered_per_week),
                   "average_sentiment": _mean([s for s in sentiment if s is not None])},
    }


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 3) if values else None


def _timeline(sentiment: dict) -> list[dict]:
    """Sentiment over time as [{t, score, speaker?}], from whatever list the analysis stored."""
    points = []
    for row in (sentiment or {}).get("timeline") or []:
        if isinstance(row, dict):
            t = row.get("start", row.get("t", row.get("time", row.get("at"))))
            score = row.get("score", row.get("value", row.get("sentiment")))
            if t is not None and score is not None:
                points.append({"t": float(t), "score": float(score), "speaker": row.get("speaker", "")})
        elif isinstance(row, list | tuple) and len(row) >= 2:
            points.append({"t": float(row[0]), "score": float(row[1]), "speaker": ""})
    return sorted(points, key=lambda p: p["t"])


def meeting_analytics(*, meeting: Meeting) -> dict[str, Any]:
    """Per-meeting numbers from its report (empty lists when there is no report yet)."""
    report = MeetingReport.objects.for_company(meeting.company_id).filter(meeting=meeting).first()
    items = ActionItem.objects.for_company(meeting.company_id).filter(meeting=meeting).filter(review="confirmed")
    counts = items.aggregate(total=Count("id"), done=Count("id", filter=Q(status=ActionItem.Status.DONE)))
    questions = (report.questions if report else []) or []
    sentiment = (report.sentiment if report else {}) or {}
    per_participant = sentiment.get("per_participant") if isinstance(sentiment, dict) else None
    if isinstance(per_participant, dict):
        per_participant = [{"speaker": k, "score": sentiment_value({"overall": v})} for k, v in per_participant.items()]
    return {
        "meeting_id": meeting.pk,
        "title": meeting.title,
        "status": report.status if report else "none",
        "talk_time": (report.talk_time if report else []) or [],
        "sentiment_overall": sentiment_value(sentiment),
        "sentiment_per_participant": per_participant or [],
        "sentiment_timeline": _timeline(sentiment if isinstance(sentiment, dict) else {}),
        "topics": (report.topics if report else []) or [],
        "questions": {"asked": len(questions),
                      "unanswered": sum(1 for q in questions if isinstance(q, dict) and not q.get("answered"))},
        "action_items": {"total": counts["total"], "done": counts["done"]},
        "decisions": (Decision.objects.for_company(meeting.company_id).filter(meeting=meeting)
                      .exclude(review="dismissed").count()),
    }


def person_get(*, company: Company, user_id: int) -> User:
    """A member of ``company`` (404 for anybody else, like for a missing id)."""
    membership = get_object_or_404(Membership.objects.for_company(company).select_related("user"), user_id=user_id)
    return membership.user


def person_analytics(*, company: Company, user: User, weeks: int = 12, today: date | None = None) -> dict[str, Any]:
    """One person's meetings, speaking time, participation, action items and questions."""
    weeks = max(1, min(weeks, 104))
    buckets = week_buckets(weeks=weeks, today=today)
    today = today or timezone.localdate()
    index = {week: i for i, week in enumerate(buckets)}
    since = _since(buckets[0])
    names = {n.lower() for n in (user.full_name, user.email) if n}
    rows = list(Participant.objects.for_company(company)
                .filter(Q(user=user) | Q(email__iexact=user.email))
                .filter(meeting__status__in=[Meeting.Status.ACTIVE, Meeting.Status.ENDED])
                .annotate(moment=Coalesce("meeting__started_at", "meeting__scheduled_start", "meeting__created_at"))
                .filter(moment__gte=since).select_related("meeting"))
    meetings_per_week, speaking_per_week = [0] * weeks, [0.0] * weeks
    scores: list[float] = []
    meeting_ids = set()
    for p in rows:
        names.add(p.name.lower())
        i = index.get(_week_start(_local_day(p.moment)))
        if i is None or p.meeting_id in meeting_ids:
            continue
        meeting_ids.add(p.meeting_id)
        meetings_per_week[i] += 1
        speaking_per_week[i] += float(p.speaking_seconds or 0) / 60
        if p.participation_score:
            scores.append(float(p.participation_score))
    items = ActionItem.objects.for_company(company).filter(assignee_user=user, review="confirmed")
    asked = 0
    for report in MeetingReport.objects.for_company(company).filter(meeting_id__in=meeting_ids, status="done"):
        asked += sum(1 for q in report.questions or []
                     if isinstance(q, dict) and str(q.get("asked_by", "")).lower() in names)
    recent = sorted({p.meeting_id: p for p in rows}.values(), key=lambda p: p.moment, reverse=True)[:10]
    return {
        "user_id": user.pk,
        "name": user.full_name or user.email,
        "weeks": [w.isoformat() for w in buckets],
        "meetings": len(meeting_ids),
        "meetings_per_week": meetings_per_week,
        "speaking_minutes_per_week": [round(m, 1) for m in speaking_per_week],
        "average_participation_score": _mean(scores),
        "questions_asked": asked,
        "action_items": {
            "open": items.filter(status__in=OPEN_STATUSES).count(),
            "done": items.filter(status=ActionItem.Status.DONE).count(),
            "overdue": items.filter(status__in=OPEN_STATUSES, due_date__lt=today).count(),
        },
        "recent_meetings": [
            {"meeting_id": p.meeting_id, "title": p.meeting.title, "date": _local_day(p.moment).isoformat(),
             "speaking_seconds": round(float(p.speaking_seconds or 0), 1),
             "participation_score": p.participation_score}
            for p in recent
        ],
    }


def people_list(*, company: Company) -> list[User]:
    return [m.user for m in Membership.objects.for_company(company).select_related("user").order_by("user__email")]
