"""Meetings with transcripts worth analysing: the scripted sales call and generated long meetings."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.utils import timezone

from accounts.models import Company, User
from accounts.tenancy import tenant_scope
from ai.models import ChatThread, PromptVersion
from meetings.models import Meeting, Participant, TranscriptSegment
from tests.meetings.factories import meeting_make

SALES_CALL = Path(__file__).resolve().parent.parent / "analysis" / "data" / "sales_call.json"


def sales_call_data() -> dict[str, Any]:
    return json.loads(SALES_CALL.read_text())


def scripted_meeting_make(*, company: Company, title: str | None = None, status: str = Meeting.Status.ENDED,
                          platform: str = Meeting.Platform.ZOOM, started_at: datetime | None = None,
                          users: dict[str, User] | None = None, utterances: list[dict] | None = None,
                          participants: list[dict] | None = None) -> Meeting:
    """A meeting holding the scripted sales call (participants, one segment per utterance)."""
    data = sales_call_data()
    utterances = utterances if utterances is not None else data["utterances"]
    participants = participants if participants is not None else data["participants"]
    started_at = started_at or timezone.make_aware(datetime.fromisoformat(data["meeting_date"] + "T15:00:00"))
    duration = max((u["end"] for u in utterances), default=0)
    meeting = meeting_make(company=company, title=title or data["title"], status=status, platform=platform,
                           started_at=started_at, ended_at=started_at + timedelta(seconds=duration + 5))
    users = users or {}
    with tenant_scope(company):
        people = {
            p["name"]: Participant.objects.create(company=company, meeting=meeting, name=p["name"],
                                                  email=p.get("email", ""), user=users.get(p["name"]))
            for p in participants
        }
        TranscriptSegment.objects.bulk_create([
            TranscriptSegment(company=company, meeting=meeting, sequence=i + 1, speaker_label=u["speaker"],
                              participant=people.get(u["speaker"]), text=u["text"], start_time=u["start"],
                              end_time=u["end"], source=TranscriptSegment.Source.CAPTION)
            for i, u in enumerate(utterances)
        ])
    return meeting


_TOPICS = [
    ("budget", ["The budget for the next quarter needs another review.", "Marketing spend went up by ten percent.",
                "We should cut the travel budget in half.", "Finance wants the numbers by the end of the month."]),
    ("hiring", ["We are hiring two backend engineers this quarter.", "The interview loop takes too long.",
                "Recruiting found three strong candidates for the data role.", "Onboarding needs a buddy system."]),
    ("roadmap", ["The mobile release slips by two weeks.", "Search improvements are the top priority.",
                 "Customers keep asking for single sign-on.", "The reporting module needs a redesign."]),
    ("support", ["Ticket volume doubled after the last release.", "The average response time is four hours.",
                 "We need better docs for the import feature.", "Two enterprise customers escalated this week."]),
]


def long_utterances(*, hours: float = 2.0, speakers: tuple[str, ...] = ("Alice Admin", "Bob Builder", "Carol Chen"),
                    seed: int = 7) -> list[dict]:
    """A generated meeting of ``hours`` (about 150 words a minute), drifting across four topics,
    with an action item, a decision and a question now and then."""
    rng = random.Random(seed)
    out: list[dict] = []
    t = 0.0
    total = hours * 3600
    i = 0
    while t < total:
        topic, lines = _TOPICS[int(t / total * len(_TOPICS) * 3) % len(_TOPICS)]
        speaker = speakers[i % len(speakers)] if rng.random() < 0.7 else rng.choice(speakers)
        text = " ".join(rng.choice(lines) for _ in range(rng.randint(1, 3)))
        if i % 97 == 11:
            text += f" {speakers[(i + 1) % len(speakers)].split()[0]}, can you send the {topic} summary by Friday?"
        if i % 131 == 40:
            text += f" We agreed to move the {topic} review to Thursday."
        if i % 53 == 7:
            text = f"What is the status of the {topic} work?"
        seconds = len(text.split()) / 2.5
        out.append({"speaker": speaker, "text": text, "start": round(t, 2), "end": round(t + seconds, 2)})
        t += seconds + rng.uniform(0.3, 1.2)
        i += 1
    return out


def long_meeting_make(*, company: Company, hours: float = 2.0) -> Meeting:
    speakers = ("Alice Admin", "Bob Builder", "Carol Chen")
    return scripted_meeting_make(company=company, title=f"{hours:g} hour planning marathon",
                                 utterances=long_utterances(hours=hours, speakers=speakers),
                                 participants=[{"name": s} for s in speakers])


def prompt_version_make(*, company: Company, prompt_type: str = "summary", body: str = "Summarise tersely.",
                        version: int = 1, provider: str = "", model: str = "") -> PromptVersion:
    with tenant_scope(company):
        return PromptVersion.objects.create(company=company, prompt_type=prompt_type, version=version, body=body,
                                            provider=provider, model=model)


def chat_thread_make(*, company: Company, user: User, meeting: Meeting | None = None, title: str = "") -> ChatThread:
    with tenant_scope(company):
        return ChatThread.objects.create(company=company, user=user, meeting=meeting, title=title)
