"""A meeting with something in every place meeting data can be, and a search of every table for it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from django.apps import apps
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import models
from django.utils import timezone

from accounts.models import Company, User
from accounts.tenancy import scopes_disabled, tenant_scope
from ai.models import ChatMessage
from knowledge.models import Chunk
from meetings.intelligence.indexing import SOURCE_TYPES, meeting_index
from meetings.live.events import event_emit
from meetings.models import AnalyticsEvent, Meeting, Participant, ProcessingJob, Suggestion
from meetings.speech.tts import suggestion_audio_key, suggestion_audio_url
from tests.intelligence.factories import chat_thread_make
from tests.meetings import factories as mf


@dataclass
class RichMeeting:
    meeting: Meeting
    person_participant: Participant
    files: list[str] = field(default_factory=list)


def rich_meeting(*, company: Company, person: User, held_days_ago: float = 0, title: str = "Pricing review",
                 person_name: str = "") -> RichMeeting:
    """An ended meeting where ``person`` spoke, owns an action item, asked a question and chatted about it."""
    person_name = person_name or person.full_name or person.email
    ended = timezone.now() - timedelta(days=held_days_ago)
    meeting = mf.meeting_make(company=company, title=title, status=Meeting.Status.ENDED,
                              started_at=ended - timedelta(minutes=30), ended_at=ended, created_by=person,
                              created_at=ended - timedelta(minutes=40))
    theirs = mf.participant_make(meeting=meeting, name=person_name, email=person.email, user=person,
                                 speaker_label="Speaker 1")
    customer = mf.participant_make(meeting=meeting, name="Dana Customer", email="dana@customer.test")
    lines = []
    for text, who in [("The enterprise plan costs forty euros per seat.", theirs),
                      ("Can we get a discount for five hundred seats?", customer),
                      ("I will send the revised quote by Friday.", theirs),
                      ("We decided to start the pilot in March.", customer),
                      ("Our security review takes two weeks.", theirs)]:
        lines.append(mf.segment_make(meeting=meeting, participant=who, text=text))
    mf.action_item_make(meeting=meeting, description="Send the revised quote", assignee_user=person,
                        assignee_participant=theirs, assignee_name=person_name, source_segment=lines[2])
    mf.action_item_make(meeting=meeting, description="Share the security questionnaire",
                        assignee_participant=customer, assignee_name="Dana Customer")
    mf.decision_make(meeting=meeting, text="Start the pilot in March", source_segments=[lines[3]])
    mf.fact_check_make(meeting=meeting, segment=lines[0])
    suggestion = mf.suggestion_make(meeting=meeting, segment=lines[1], asked_by=person)
    mf.report_make(meeting=meeting, short_summary="Pricing and a pilot in March were agreed.",
                   talk_time=[{"name": person_name, "seconds": 9.0}, {"name": "Dana Customer", "seconds": 6.0}],
                   key_points=["Pilot in March"])
    files = []
    with tenant_scope(company):
        audio_key = suggestion_audio_key(company_id=company.pk, suggestion_id=suggestion.pk, extension="mp3")
        files.append(default_storage.save(audio_key, ContentFile(b"ID3 fake mp3")))
        Suggestion.objects.filter(pk=suggestion.pk).update(
            audio_url=suggestion_audio_url(meeting_id=meeting.pk, suggestion_id=suggestion.pk))
        recording = default_storage.save(f"uploads/{company.pk}/{uuid.uuid4().hex}/call.wav",
                                         ContentFile(b"RIFF fake wav"))
        files.append(recording)
        ProcessingJob.objects.create(company=company, meeting=meeting, kind="recording", storage_key=recording,
                                     status=ProcessingJob.Status.DONE, stage="done", percent=100)
        AnalyticsEvent.objects.create(company=company, meeting=meeting, participant=theirs,
                                      kind=AnalyticsEvent.Kind.SPEAK_START, at=ended, data={"speaker": person_name})
        event_emit(meeting=meeting, type="transcript", payload={"speaker": person_name, "text": lines[0].text})
        meeting_index(company=company, meeting=meeting)
        thread = chat_thread_make(company=company, user=person, meeting=meeting, title="About pricing")
        ChatMessage.objects.create(company=company, thread=thread, role="user", content="What did we promise?")
        general = chat_thread_make(company=company, user=person, title="Everything")
        ChatMessage.objects.create(company=company, thread=general, role="assistant", content="A quote by Friday.",
                                   citations=[{"n": 1, "source_type": "transcript", "meeting_id": meeting.pk,
                                               "snippet": lines[2].text}])
    return RichMeeting(meeting=meeting, person_participant=theirs, files=files)


def _meeting_fks(model: type[models.Model]) -> list[str]:
    return [f.name for f in model._meta.get_fields()
            if isinstance(f, models.ForeignKey | models.OneToOneField) and f.related_model is Meeting]


def meeting_traces(meeting_id: int) -> dict[str, int]:
    """Rows anywhere (every company) that still point at the meeting: foreign keys, chunks, citations."""
    assert meeting_id is not None
    found: dict[str, int] = {}
    with scopes_disabled():
        for model in apps.get_models():
            manager = model._base_manager
            if model is Meeting:
                count = manager.filter(pk=meeting_id).count()
                if count:
                    found["meetings.Meeting"] = count
                continue
            for name in _meeting_fks(model):
                count = manager.filter(**{name: meeting_id}).count()
                if count:
                    found[f"{model._meta.label}.{name}"] = count
        chunks = Chunk._base_manager.filter(source_type__in=SOURCE_TYPES, source_id=meeting_id).count()
        chunks += Chunk._base_manager.filter(metadata__meeting_id=meeting_id).count()
        if chunks:
            found["knowledge.Chunk"] = chunks
        cited = ChatMessage._base_manager.filter(citations__contains=[{"meeting_id": meeting_id}]).count()
        if cited:
            found["ai.ChatMessage.citations"] = cited
    return found


def stored_files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()} if root.exists() else set()
