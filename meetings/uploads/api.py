"""Uploads API: recordings in, transcripts in, pipeline progress out."""

from __future__ import annotations

from django.urls import reverse
from ninja import File, Form, Router, Status
from ninja.files import UploadedFile

from accounts.permissions import Perm, require
from meetings.uploads import selectors, services
from meetings.uploads import tasks as _tasks  # noqa: F401  (registers the pipeline task with Celery)
from meetings.uploads.schemas import ImportOut, ProcessingOut, RecordingUploadOut
from meetpilot.apikit import ErrorOut

router = Router(tags=["uploads"])
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 413: ErrorOut,
          415: ErrorOut, 422: ErrorOut}


def _processing_out(job) -> dict:
    return {**{f: getattr(job, f) for f in ProcessingOut.model_fields if f != "meeting_id"},
            "meeting_id": job.meeting_id}


@router.post("/meetings/upload", response={202: RecordingUploadOut, **ERRORS})
def recording_upload(request, file: File[UploadedFile], title: str = Form(""), language: str = Form(""),
                     speakers: str = Form("")):
    """Upload a recording (mp3, wav, m4a/mp4, ogg/opus, webm, flac). Processing runs in the background:
    follow it at `GET /meetings/{id}/processing`."""
    require(request.auth, Perm.MEETING_EDIT)
    if speakers.strip() and not (speakers.strip().isdecimal() and speakers.strip().isascii()):
        raise services.InvalidSpeakers("speakers must be a whole number (or empty to detect).")
    meeting = services.recording_upload(company=request.auth.company, user=request.auth.user, uploaded=file,
                                        title=title, language=language,
                                        speaker_count_hint=int(speakers) if speakers.strip() else None)
    job = selectors.processing_get(company=request.auth.company, meeting_id=meeting.pk)
    return Status(202, {"meeting_id": meeting.pk, "title": meeting.title, "processing": _processing_out(job),
                 "processing_url": reverse("api:processing_get", kwargs={"meeting_id": meeting.pk})})


@router.post("/meetings/import", response={201: ImportOut, **ERRORS})
def transcript_import(request, file: File[UploadedFile], title: str = Form(""), language: str = Form("")):
    """Import a transcript: WebVTT, SRT, text ("Speaker: text" lines, optional [hh:mm:ss]), or JSON
    from Zoom, Teams, Google Meet or Otter."""
    require(request.auth, Perm.MEETING_EDIT)
    meeting = services.transcript_import(company=request.auth.company, user=request.auth.user, uploaded=file,
                                         title=title, language=language)
    job = selectors.processing_get(company=request.auth.company, meeting_id=meeting.pk)
    speakers = selectors.speaker_names(company=request.auth.company, meeting=meeting)
    return Status(201, {"meeting_id": meeting.pk, "title": meeting.title, "format": meeting.import_format,
                 "platform": meeting.platform, "segments": selectors.segment_count(company=request.auth.company,
                                                                                   meeting=meeting),
                 "speakers": speakers, "duration_seconds": job.duration_seconds or 0.0})


@router.get("/meetings/{int:meeting_id}/processing", response={200: ProcessingOut, **ERRORS},
            url_name="processing_get")
def processing_get(request, meeting_id: int):
    """Stage, overall percent, per-stage percent and any error of the meeting's processing job."""
    require(request.auth, Perm.VIEW)
    return _processing_out(selectors.processing_get(company=request.auth.company, meeting_id=meeting_id))


@router.post("/meetings/{int:meeting_id}/processing/retry", response={202: ProcessingOut, **ERRORS})
def processing_retry(request, meeting_id: int):
    """Run the pipeline again (idempotent: a job already queued or running is not started twice)."""
    require(request.auth, Perm.MEETING_EDIT)
    job = selectors.processing_get(company=request.auth.company, meeting_id=meeting_id)
    job = services.processing_retry(company=request.auth.company, meeting=job.meeting)
    return Status(202, _processing_out(job))
