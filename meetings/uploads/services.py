"""Writes for uploads: accept a recording or a transcript, run the pipeline, store the segments.

Upload checks happen before anything is stored or queued (size, empty, content probe, duration);
whatever can only be found by decoding (truncation, silence) fails the job at its stage with a
reason. Re-running is idempotent: a run replaces all of the meeting's segments in one transaction.
"""

from __future__ import annotations

import contextlib
import logging
import re
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from accounts.models import Company, User
from meetings.models import Meeting, Participant, ProcessingJob, TranscriptSegment
from meetings.signals import transcript_completed
from meetings.speech import audio as audio_io
from meetings.speech import importers
from meetings.speech.pipeline import PipelineError, process_audio
from meetings.speech.types import SttSegment
from meetings.voices.services import speaker_voices_store
from meetpilot.errors import Conflict, Invalid, TooLarge, Unprocessable, UnsupportedMediaType
from meetpilot.tasks import TRANSIENT_ERRORS, Transient, task_send

logger = logging.getLogger(__name__)
RECORDING_TASK = "meetings.uploads.recording_process"

# Share of the whole job each stage takes (by typical running time).
STAGES: tuple[tuple[str, float], ...] = (
    ("decode", 10.0), ("vad", 5.0), ("transcribe", 65.0), ("diarize", 15.0), ("store", 5.0),
)
STAGE_LABELS = {"decode": "Decode audio", "vad": "Find speech", "transcribe": "Transcribe",
                "diarize": "Separate speakers", "store": "Save transcript", "import": "Import transcript"}
# A queued or running job with no progress for this long lost its worker; a retry may restart it.
STALE_AFTER_SECONDS = 15 * 60


class TransientProcessingError(Transient):
    """Worth retrying (database or storage hiccup); the task's retry policy picks it up."""


class UnsupportedMedia(UnsupportedMediaType):
    """The file is not a recording we can read."""

    code = "unsupported_format"


class InvalidSpeakers(Unprocessable):
    """The speaker count is not a whole number between 1 and 20."""

    code = "invalid_speakers"


# --- accepting files ------------------------------------------------------------------------------------


def _safe_name(name: str) -> str:
    stem = Path(name or "recording").name
    return re.sub(r"[^\w.\-]+", "_", stem)[:120] or "recording"


@contextlib.contextmanager
def _local_copy(uploaded: UploadedFile) -> Iterator[Path]:
    """The upload as a file on disk (ffprobe needs a path); large uploads already are one."""
    temporary_path = getattr(uploaded, "temporary_file_path", None)
    if temporary_path is not None:
        yield Path(temporary_path())
        return
    suffix = Path(uploaded.name or "").suffix[:10]
    with tempfile.NamedTemporaryFile(suffix=suffix) as handle:
        for chunk in uploaded.chunks():
            handle.write(chunk)
        handle.flush()
        yield Path(handle.name)


def recording_check(*, uploaded: UploadedFile) -> audio_io.AudioInfo:
    """Refuse what we can refuse up front: empty, too big, not audio, too long."""
    if uploaded.size is None or uploaded.size == 0:
        raise Invalid("The file is empty.", code="empty_file")
    if uploaded.size > settings.UPLOAD_MAX_BYTES:
        raise TooLarge(f"The file is {uploaded.size / 1e6:.0f} MB; the limit is "
                       f"{settings.UPLOAD_MAX_BYTES / 1e6:.0f} MB.", code="file_too_large")
    with _local_copy(uploaded) as path:
        try:
            info = audio_io.probe(path)
        except audio_io.AudioError as exc:
            if exc.code in ("unsupported_format", "no_audio"):
                raise UnsupportedMedia(exc.message, code=exc.code) from None
            raise Invalid(exc.message, code=exc.code) from None
    if info.duration is not None and info.duration > settings.UPLOAD_MAX_SECONDS:
        raise TooLarge(f"The recording is {_clock(info.duration)} long; the limit is "
                       f"{_clock(settings.UPLOAD_MAX_SECONDS)}.", code="too_long")
    return info


def recording_upload(*, company: Company, user: User | None, uploaded: UploadedFile, title: str = "",
                     language: str = "", speaker_count_hint: int | None = None) -> Meeting:
    """Check a recording, store it, create its meeting and queue the pipeline (after commit)."""
    if speaker_count_hint is not None and not 1 <= speaker_count_hint <= 20:
        raise InvalidSpeakers("speakers must be between 1 and 20.")
    info = recording_check(uploaded=uploaded)
    key = f"uploads/{company.pk}/{uuid.uuid4().hex}/{_safe_name(uploaded.name)}"
    uploaded.seek(0)
    stored_key = default_storage.save(key, File(uploaded, name=_safe_name(uploaded.name)))
    try:
        with transaction.atomic():
            meeting = Meeting(company=company, title=(title or Path(uploaded.name or "Recording").stem)[:300],
                              platform=Meeting.Platform.UPLOAD, language=(language or "")[:16], created_by=user)
            meeting.full_clean()
            meeting.save()
            job = ProcessingJob(company=company, meeting=meeting, kind="recording", storage_key=stored_key,
                                original_filename=(uploaded.name or "")[:300],
                                content_type=(uploaded.content_type or "")[:100], size_bytes=uploaded.size,
                                duration_seconds=info.duration, speaker_count_hint=speaker_count_hint,
                                status=ProcessingJob.Status.QUEUED, stage="queued",
                                stages={name: {"percent": 0} for name, _ in STAGES})
            job.save()
            _enqueue_on_commit(company_id=company.pk, meeting_id=meeting.pk)
    except Exception:
        default_storage.delete(stored_key)
        raise
    return meeting


def _enqueue_on_commit(*, company_id: int, meeting_id: int) -> None:
    def send() -> None:
        try:
            task_send(RECORDING_TASK, company_id=company_id, meeting_id=meeting_id)
        except Exception:  # broker down: the recording stays stored and queued; a retry re-queues it
            logger.exception("could not queue the recording of meeting %s", meeting_id)

    transaction.on_commit(send)


def processing_retry(*, company: Company, meeting: Meeting) -> ProcessingJob:
    """Run the pipeline again. Idempotent: a queued or running job is left alone (no second run)."""
    assert meeting.company_id == company.pk
    with transaction.atomic():
        job = ProcessingJob.objects.select_for_update().get(meeting=meeting)
        if job.kind != "recording":
            raise Conflict("Only uploaded recordings can be processed again.", code="not_a_recording")
        stale = job.updated_at < timezone.now() - timedelta(seconds=STALE_AFTER_SECONDS)
        if job.status in (ProcessingJob.Status.QUEUED, ProcessingJob.Status.RUNNING) and not stale:
            return job
        job.status = ProcessingJob.Status.QUEUED
        job.stage = "queued"
        job.percent = 0
        job.error = ""
        job.error_stage = ""
        job.stages = {name: {"percent": 0} for name, _ in STAGES}
        job.finished_at = None
        job.save()
        _enqueue_on_commit(company_id=company.pk, meeting_id=meeting.pk)
    return job


# --- the pipeline --------------------------------------------------------------------------------------


class _ProgressWriter:
    """Writes stage progress to the job row, at most every ``interval`` seconds per stage."""

    def __init__(self, job: ProcessingJob, interval: float = 0.5) -> None:
        self.job = job
        self.interval = interval
        self.stages: dict[str, dict] = {name: {"percent": 0} for name, _ in STAGES}
        self._stage_started: dict[str, float] = {}
        self._last_write = 0.0

    def __call__(self, stage: str, fraction: float) -> None:
        fraction = max(0.0, min(1.0, fraction))
        now = time.monotonic()
        self._stage_started.setdefault(stage, now)
        entry = self.stages.setdefault(stage, {"percent": 0})
        entry["percent"] = round(100 * fraction, 1)
        if fraction >= 1.0:
            entry["seconds"] = round(now - self._stage_started[stage], 2)
        if fraction < 1.0 and fraction > 0.0 and now - self._last_write < self.interval:
            return
        self._last_write = now
        total = sum(weight * self.stages.get(name, {}).get("percent", 0) / 100 for name, weight in STAGES)
        ProcessingJob.objects.filter(pk=self.job.pk).update(stage=stage, percent=round(total, 1),
                                                           stages=self.stages, updated_at=timezone.now())


def _claim(meeting_id: int) -> ProcessingJob | None:
    with transaction.atomic():
        job = ProcessingJob.objects.select_for_update().select_related("meeting").filter(
            meeting_id=meeting_id).first()
        if job is None or job.kind != "recording" or job.status in (ProcessingJob.Status.DONE,
                                                                     ProcessingJob.Status.FAILED):
            return None
        job.status = ProcessingJob.Status.RUNNING
        job.attempts += 1
        job.started_at = timezone.now()
        job.error = ""
        job.error_stage = ""
        job.stage = "decode"
        job.percent = 0
        job.stages = {name: {"percent": 0} for name, _ in STAGES}
        job.save()
    return job


def _fail(job: ProcessingJob, *, stage: str, message: str) -> None:
    ProcessingJob.objects.filter(pk=job.pk).update(
        status=ProcessingJob.Status.FAILED, error=message[:2000], error_stage=stage, stage=stage,
        finished_at=timezone.now(), updated_at=timezone.now())


@contextlib.contextmanager
def _stored_file(key: str) -> Iterator[Path]:
    """A local path for the stored recording (downloaded first when storage is remote)."""
    try:
        yield Path(default_storage.path(key))
        return
    except NotImplementedError:
        pass
    with tempfile.NamedTemporaryFile(suffix=Path(key).suffix) as handle, default_storage.open(key, "rb") as source:
        for chunk in iter(lambda: source.read(1024 * 1024), b""):
            handle.write(chunk)
        handle.flush()
        yield Path(handle.name)


def recording_process(*, company_id: int, meeting_id: int, final_attempt: bool = True) -> ProcessingJob | None:
    """Run the whole pipeline for one uploaded recording. Safe to call twice (status guard, replace-all).

    Returns the job as it ended, or None when there was nothing to do (gone, done, or not ours).
    """
    company = Company.objects.filter(pk=company_id).first()
    if company is None:
        return None
    job = _claim(meeting_id)
    if job is None:
        return None
    assert job.company_id == company.pk
    progress = _ProgressWriter(job)
    stage = "decode"
    try:
        progress("decode", 0.0)
        if not default_storage.exists(job.storage_key):
            raise PipelineError("decode", "missing_file", "The uploaded file is no longer in storage.")
        with _stored_file(job.storage_key) as path:
            try:
                info = audio_io.probe(path)
                samples = audio_io.decode(path, expected_duration=info.duration,
                                          max_seconds=settings.UPLOAD_MAX_SECONDS)
            except audio_io.AudioError as exc:
                raise PipelineError("decode", exc.code, exc.message)
        duration = samples.size / audio_io.SAMPLE_RATE
        if duration > settings.UPLOAD_MAX_SECONDS + 1:
            raise PipelineError("decode", "too_long",
                                f"The recording is longer than {_clock(settings.UPLOAD_MAX_SECONDS)}.")
        ProcessingJob.objects.filter(pk=job.pk).update(duration_seconds=round(duration, 3))
        progress("decode", 1.0)

        def stage_progress(name: str, fraction: float) -> None:
            nonlocal stage
            stage = name
            progress(name, fraction)

        result = process_audio(samples, language=job.meeting.language or None,
                               speaker_count_hint=job.speaker_count_hint, progress=stage_progress)
        stage = "store"
        progress("store", 0.0)
        segments_store(company=company, meeting=job.meeting, segments=result.segments,
                       source=TranscriptSegment.Source.UPLOAD, language=result.language or "", duration=duration)
        speaker_voices_store(company=company, meeting=job.meeting, voices=result.voices, seconds=result.voice_seconds)
        progress("store", 1.0)
        with transaction.atomic():
            ProcessingJob.objects.filter(pk=job.pk).update(
                status=ProcessingJob.Status.DONE, stage="done", percent=100, finished_at=timezone.now(),
                stages=progress.stages, error="", error_stage="", updated_at=timezone.now())
            transaction.on_commit(lambda: transcript_completed.send(sender=Meeting, company_id=company.pk,
                                                                    meeting_id=job.meeting_id))
    except PipelineError as exc:
        _fail(job, stage=exc.stage, message=exc.message)
    except TRANSIENT_ERRORS as exc:
        if final_attempt:
            _fail(job, stage=stage, message=f"A temporary error repeated until we gave up: {exc}")
        else:
            # Back to queued so the retry can claim it.
            ProcessingJob.objects.filter(pk=job.pk).update(status=ProcessingJob.Status.QUEUED,
                                                           error=f"Retrying after: {exc}"[:2000])
            raise TransientProcessingError(str(exc)) from exc
    except Exception as exc:  # a bug or an unexpected file: say where, keep the traceback in the log
        logger.exception("recording processing failed", extra={"meeting_id": meeting_id, "stage": stage})
        _fail(job, stage=stage, message=f"Unexpected error while {STAGE_LABELS.get(stage, stage).lower()}: "
                                        f"{type(exc).__name__}: {exc}")
    job.refresh_from_db()
    return job


# --- storing segments (shared by recordings and imports) ------------------------------------------------


@transaction.atomic
def segments_store(*, company: Company, meeting: Meeting, segments: list[SttSegment], source: str,
                   language: str = "", duration: float | None = None) -> int:
    """Replace all of the meeting's segments with these, and link speakers to participants.

    A participant renamed by a person keeps its name: it is found again through its speaker label.
    """
    assert meeting.company_id == company.pk
    Meeting.objects.select_for_update().filter(pk=meeting.pk).first()  # serialise concurrent re-runs
    TranscriptSegment.objects.filter(meeting=meeting).delete()
    participants: dict[str, Participant] = {}
    speaking: dict[str, float] = {}
    for segment in segments:
        label = (segment.speaker or "Unknown speaker")[:100]
        if label in participants:
            continue
        participant = (Participant.objects.filter(meeting=meeting, speaker_label=label).first()
                       or Participant.objects.filter(meeting=meeting, name=label).first())
        if participant is None:
            participant = Participant.objects.create(company=company, meeting=meeting, name=label,
                                                     speaker_label=label)
        elif not participant.speaker_label:
            participant.speaker_label = label
            participant.save(update_fields=["speaker_label"])
        participants[label] = participant
    rows = []
    for sequence, segment in enumerate(sorted(segments, key=lambda s: (s.start, s.end)), start=1):
        label = (segment.speaker or "Unknown speaker")[:100]
        participant = participants[label]
        speaking[label] = speaking.get(label, 0.0) + max(0.0, segment.end - segment.start)
        rows.append(TranscriptSegment(
            company=company, meeting=meeting, sequence=sequence, speaker_label=participant.name,
            participant=participant, text=segment.text, start_time=round(segment.start, 3),
            end_time=round(max(segment.end, segment.start), 3), is_final=True,
            confidence=segment.confidence, source=source,
        ))
    TranscriptSegment.objects.bulk_create(rows, batch_size=500)
    for label, participant in participants.items():
        participant.speaking_seconds = round(speaking.get(label, 0.0), 2)
        participant.save(update_fields=["speaking_seconds"])
    started = meeting.started_at or meeting.created_at or timezone.now()
    end = max((s.end for s in segments), default=0.0)
    meeting.status = Meeting.Status.ENDED
    meeting.started_at = started
    meeting.ended_at = started + timedelta(seconds=duration if duration is not None else end)
    if language and not meeting.language:
        meeting.language = language[:16]
    meeting.save(update_fields=["status", "started_at", "ended_at", "language", "updated_at"])
    return len(rows)


# --- transcript import -----------------------------------------------------------------------------------


def transcript_import(*, company: Company, user: User | None, uploaded: UploadedFile, title: str = "",
                      language: str = "") -> Meeting:
    """Parse a transcript file and store it as a finished meeting (speakers and times kept)."""
    if not uploaded.size:
        raise Invalid("The file is empty.", code="empty_file")
    if uploaded.size > settings.TRANSCRIPT_IMPORT_MAX_BYTES:
        raise TooLarge("The transcript file is too large.", code="file_too_large")
    data = b"".join(uploaded.chunks())
    try:
        parsed = importers.parse_transcript(data, filename=uploaded.name or "")
    except importers.ImportFormatError as exc:
        raise Invalid(str(exc), code="invalid_transcript") from None
    segments = [SttSegment(start=s.start or 0.0, end=s.end or 0.0, text=s.text, speaker=s.speaker)
                for s in parsed.segments]
    with transaction.atomic():
        default_title = parsed.title or Path(uploaded.name or "Transcript").stem
        meeting = Meeting(company=company, title=(title or default_title)[:300],
                          platform=parsed.platform if parsed.platform in Meeting.Platform.values else "upload",
                          language=(language or parsed.language or "")[:16], created_by=user)
        meeting.full_clean()
        meeting.save()
        now = timezone.now()
        ProcessingJob.objects.create(
            company=company, meeting=meeting, kind="transcript", original_filename=(uploaded.name or "")[:300],
            content_type=(uploaded.content_type or "")[:100], size_bytes=uploaded.size,
            duration_seconds=max((s.end for s in segments), default=0.0), status=ProcessingJob.Status.DONE,
            stage="done", percent=100, stages={"import": {"percent": 100, "format": parsed.format}},
            attempts=1, started_at=now, finished_at=now)
        segments_store(company=company, meeting=meeting, segments=segments, source=TranscriptSegment.Source.IMPORT)
        transaction.on_commit(lambda: transcript_completed.send(sender=Meeting, company_id=company.pk,
                                                                meeting_id=meeting.pk))
    meeting.import_format = parsed.format  # type: ignore[attr-defined]  # for the response only
    return meeting


def _clock(seconds: float) -> str:
    seconds = round(seconds)
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def recording_file_forget(sender, instance: ProcessingJob, **kwargs) -> None:
    """``post_delete`` of a ProcessingJob (its meeting was deleted): the uploaded file goes too, after commit."""
    key = instance.storage_key
    if key:
        transaction.on_commit(lambda: default_storage.delete(key))
