"""Meetings and everything said and found in them.

Every table carries ``company`` (denormalised on the high-volume ones) so that the
tenant manager can filter it directly.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from accounts.tenancy import TenantModel


class Meeting(TenantModel):
    class Platform(models.TextChoices):
        GOOGLE_MEET = "google_meet", "Google Meet"
        ZOOM = "zoom", "Zoom"
        TEAMS = "teams", "Microsoft Teams"
        UPLOAD = "upload", "Upload"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        ACTIVE = "active", "Active"
        ENDED = "ended", "Ended"

    class Kind(models.TextChoices):
        INTERNAL = "internal", "Internal"
        SALES = "sales", "Sales"

    title = models.CharField(max_length=300)
    platform = models.CharField(max_length=20, choices=Platform.choices, default=Platform.OTHER)
    meeting_url = models.URLField(max_length=1000, blank=True)
    calendar_event_id = models.CharField(max_length=300, blank=True)
    scheduled_start = models.DateTimeField(null=True, blank=True)
    scheduled_end = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.SCHEDULED, db_index=True)
    language = models.CharField(max_length=16, blank=True, help_text="BCP-47 code; empty means detect")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.INTERNAL)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    # The newest server event id handed out for this meeting (see MeetingEvent).
    last_event_id = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["company", "-created_at"]), models.Index(fields=["company", "status"])]

    def __str__(self) -> str:
        return self.title


class Participant(TenantModel):
    class Role(models.TextChoices):
        CUSTOMER = "customer", "Customer"
        CONSULTANT = "consultant", "Consultant"
        INTERNAL = "internal", "Internal"
        UNKNOWN = "unknown", "Unknown"

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="participants")
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="+")
    # The label speaker separation gave this voice ("Speaker 1"), when it came from audio.
    speaker_label = models.CharField(max_length=100, blank=True)
    joined_at = models.DateTimeField(null=True, blank=True)
    left_at = models.DateTimeField(null=True, blank=True)
    speaking_seconds = models.FloatField(default=0)
    participation_score = models.FloatField(default=0)
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.UNKNOWN)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["meeting", "name"], name="participant_unique_name")]

    def __str__(self) -> str:
        return self.name


class TranscriptSegment(TenantModel):
    class Source(models.TextChoices):
        CAPTION = "caption", "Caption"
        AUDIO = "audio", "Audio"
        IMPORT = "import", "Imported transcript"
        UPLOAD = "upload", "Uploaded recording"

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="segments")
    # Server-side order within the meeting.
    sequence = models.BigIntegerField()
    # Which client sent it and that client's own sequence number: a resend is recognised by these.
    client_id = models.CharField(max_length=100, blank=True)
    client_sequence = models.BigIntegerField(null=True, blank=True)
    # Normalised speaker + text, so the same caption sent by two extensions is stored once.
    content_key = models.CharField(max_length=64, blank=True, db_index=True)
    speaker_label = models.CharField(max_length=200, blank=True)
    participant = models.ForeignKey(Participant, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="segments")
    text = models.TextField()
    start_time = models.FloatField(help_text="seconds from the start of the meeting")
    end_time = models.FloatField()
    is_final = models.BooleanField(default=True)
    confidence = models.FloatField(null=True, blank=True)
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.CAPTION)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["meeting", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "sequence"], name="segment_unique_sequence"),
            models.UniqueConstraint(
                fields=["meeting", "client_id", "client_sequence"],
                condition=models.Q(client_sequence__isnull=False),
                name="segment_unique_client_sequence",
            ),
        ]
        indexes = [models.Index(fields=["company", "meeting", "start_time"])]


class ActionItem(TenantModel):
    class Priority(models.TextChoices):
        HIGH = "high", "High"
        MEDIUM = "medium", "Medium"
        LOW = "low", "Low"

    class Review(models.TextChoices):
        # Detections under the company's confidence threshold are suggestions until a person confirms them.
        CONFIRMED = "confirmed", "Confirmed"
        SUGGESTED = "suggested", "Suggested"
        DISMISSED = "dismissed", "Dismissed"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"

    class Origin(models.TextChoices):
        LIVE = "live", "Detected live"
        SUMMARY = "summary", "After-meeting analysis"
        MANUAL = "manual", "Added by a person"

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="action_items")
    description = models.TextField()
    assignee_user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                      related_name="assigned_action_items")
    assignee_participant = models.ForeignKey(Participant, on_delete=models.SET_NULL, null=True, blank=True,
                                             related_name="action_items")
    assignee_name = models.CharField(max_length=200, blank=True)
    due_date = models.DateField(null=True, blank=True)
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.MEDIUM)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING, db_index=True)
    confidence = models.FloatField(default=1.0)
    review = models.CharField(max_length=12, choices=Review.choices, default=Review.CONFIRMED, db_index=True)
    source_segment = models.ForeignKey(TranscriptSegment, on_delete=models.SET_NULL, null=True, blank=True,
                                       related_name="+")
    origin = models.CharField(max_length=20, choices=Origin.choices, default=Origin.MANUAL)
    # Which analysis produced it ("local", "openai:gpt-4o-mini", ...).
    provider = models.CharField(max_length=100, blank=True)
    # Normalised description, so re-runs and live + after-meeting results merge instead of duplicating.
    dedupe_key = models.CharField(max_length=64, blank=True, db_index=True)
    # Fields a person changed by hand; analysis re-runs never overwrite them.
    edited_fields = models.JSONField(default=list, blank=True)
    # Integration sync: {"jira": {"state": "synced", "at": ...}, ...} and {"jira": "PROJ-12", ...}.
    sync_state = models.JSONField(default=dict, blank=True)
    external_ids = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["company", "status", "due_date"])]


class Decision(TenantModel):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="decisions")
    text = models.TextField()
    source_segments = models.ManyToManyField(TranscriptSegment, blank=True, related_name="+")
    confidence = models.FloatField(default=1.0)
    review = models.CharField(max_length=12, choices=ActionItem.Review.choices, default=ActionItem.Review.CONFIRMED,
                              db_index=True)
    reviewed = models.BooleanField(default=False)  # a person confirmed or dismissed it: analysis leaves it alone
    origin = models.CharField(max_length=20, choices=ActionItem.Origin.choices, default=ActionItem.Origin.LIVE)
    provider = models.CharField(max_length=100, blank=True)
    dedupe_key = models.CharField(max_length=64, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]


class FactCheck(TenantModel):
    class Verdict(models.TextChoices):
        CORRECT = "correct", "Correct"
        INCORRECT = "incorrect", "Incorrect"
        UNVERIFIABLE = "unverifiable", "Unverifiable"

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="fact_checks")
    segment = models.ForeignKey(TranscriptSegment, on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="+")
    claim = models.TextField()
    claimed_value = models.CharField(max_length=200, blank=True)
    verdict = models.CharField(max_length=20, choices=Verdict.choices)
    corrected_value = models.CharField(max_length=200, blank=True)
    confidence = models.FloatField(default=0)
    # Snapshot of the cited passage: {document_id, chunk_id, title, page, snippet}. A snapshot, not a
    # foreign key, because re-indexing a document replaces its chunks.
    source = models.JSONField(default=dict, blank=True)
    provider = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]


class Suggestion(TenantModel):
    class Kind(models.TextChoices):
        SUGGESTION = "suggestion", "Suggested answer to a customer's question"
        ANSWER = "answer", "Answer to a question asked of MeetPilot"

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="suggestions")
    segment = models.ForeignKey(TranscriptSegment, on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.SUGGESTION)
    question = models.TextField()
    answer = models.TextField()
    sources = models.JSONField(default=list, blank=True)
    confidence = models.CharField(max_length=10, blank=True)
    latency_ms = models.FloatField(null=True, blank=True)
    provider = models.CharField(max_length=100, blank=True)
    asked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="+")
    audio_url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]


class AnalyticsEvent(TenantModel):
    class Kind(models.TextChoices):
        JOIN = "join", "Joined"
        LEAVE = "leave", "Left"
        SPEAK_START = "speak_start", "Started speaking"
        SPEAK_END = "speak_end", "Stopped speaking"
        QUESTION = "question", "Asked a question"
        QUERY = "query", "Queried the knowledge base"

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="analytics_events")
    participant = models.ForeignKey(Participant, on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    at = models.DateTimeField()
    offset_seconds = models.FloatField(null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at"]
        indexes = [models.Index(fields=["company", "kind", "at"])]


class MeetingEvent(TenantModel):
    """Every event the server sent about a meeting, in order: the source of truth for replay.

    Channel layers drop messages when full; a reconnecting client asks for the events
    after the last ``event_id`` it saw and gets them from here.
    """

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="events")
    event_id = models.BigIntegerField()
    type = models.CharField(max_length=40)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["meeting", "event_id"]
        constraints = [models.UniqueConstraint(fields=["meeting", "event_id"], name="meeting_event_unique_id")]


class LiveAnalysisWork(TenantModel):
    """Live analysis still owed to a final segment: the outbox of the live pipeline.

    Inserted in the transaction that makes the segment final (so an acked caption always has
    its row), deleted in the transaction that writes what the analysis found (so a segment is
    analysed exactly once, whichever process does it, however often it crashes). Written only
    by ``meetings.live.backlog``.
    """

    class Kind(models.TextChoices):
        ANALYSIS = "analysis", "Action items, decisions, questions and fact checks"
        SUGGESTION = "suggestion", "A suggested answer to a customer's question"

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="+")
    segment = models.ForeignKey(TranscriptSegment, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.ANALYSIS)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["meeting", "pk"]
        constraints = [models.UniqueConstraint(fields=["segment", "kind"], name="live_work_unique_segment_kind")]
        indexes = [models.Index(fields=["meeting", "kind", "created_at"])]


class LiveAnalysisCursor(TenantModel):
    """A meeting's live analysis progress and its lease: which process analyses it right now.

    A process analyses a meeting only while it holds the lease (``holder`` with ``lease_until`` in
    the future), renewed as it goes; a crashed process's lease runs out and another takes over.
    Written only by ``meetings.live.backlog``.
    """

    meeting = models.OneToOneField(Meeting, on_delete=models.CASCADE, related_name="+")
    holder = models.CharField(max_length=200, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    analysed = models.BigIntegerField(default=0, help_text="segments analysed so far")
    last_sequence = models.BigIntegerField(default=0, help_text="sequence of the newest segment analysed")
    updated_at = models.DateTimeField(auto_now=True)


class ProcessingJob(TenantModel):
    """The pipeline run for an uploaded recording or transcript: stage, progress and error."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    meeting = models.OneToOneField(Meeting, on_delete=models.CASCADE, related_name="processing")
    kind = models.CharField(max_length=20, default="recording")  # recording | transcript
    storage_key = models.CharField(max_length=500, blank=True)
    original_filename = models.CharField(max_length=300, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    size_bytes = models.BigIntegerField(default=0)
    duration_seconds = models.FloatField(null=True, blank=True)
    speaker_count_hint = models.PositiveSmallIntegerField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    stage = models.CharField(max_length=40, blank=True)
    percent = models.FloatField(default=0)
    # Per stage: {"decode": {"percent": 100, "seconds": 1.2}, ...}
    stages = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    error_stage = models.CharField(max_length=40, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)


class MeetingReport(TenantModel):
    """What the after-meeting analysis wrote. Re-running replaces it."""

    meeting = models.OneToOneField(Meeting, on_delete=models.CASCADE, related_name="report")
    short_summary = models.TextField(blank=True)
    detailed_summary = models.TextField(blank=True)
    topics = models.JSONField(default=list, blank=True)  # [{title, start, end, keyphrases}]
    questions = models.JSONField(default=list, blank=True)  # [{text, asked_by, at, answered, answer_segment}]
    sentiment = models.JSONField(default=dict, blank=True)  # {overall, per_participant, timeline}
    talk_time = models.JSONField(default=list, blank=True)  # per participant stats
    follow_up_email = models.TextField(blank=True)
    key_points = models.JSONField(default=list, blank=True)
    provider = models.CharField(max_length=100, blank=True)
    is_partial = models.BooleanField(default=False)
    notes = models.TextField(blank=True)  # e.g. why a result is partial
    # Stretches of the meeting the transcript does not cover: [{start, end, reason, source}] (meetings.capture).
    missing = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=20, default="pending")  # pending | running | done | failed
    error = models.TextField(blank=True)
    generated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)


class CaptureGap(TenantModel):
    """A stretch of a meeting a client could not capture (captions switched off, the page changed, nothing
    read while people talked), as the client reported it. Written only by ``meetings.capture``; the
    silences the server sees in the transcript itself are computed there, not stored."""

    class Reason(models.TextChoices):
        CAPTIONS_OFF = "captions_off", "captions switched off"
        PAGE_CHANGED = "page_changed", "captions could not be read"
        NO_CAPTIONS = "no_captions", "nothing captured while people talked"

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="capture_gaps")
    client_id = models.CharField(max_length=64)
    reason = models.CharField(max_length=20, choices=Reason.choices)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)  # null: still going on when last reported
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["started_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["meeting", "client_id", "reason", "started_at"],
                                               name="capture_gap_unique")]


from meetings.voices.models import SpeakerVoice, VoiceConsent, Voiceprint  # noqa: E402,F401  (voices known across meetings)
