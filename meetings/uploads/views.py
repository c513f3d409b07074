"""Dashboard pages for uploads: a drag-and-drop page and a live processing view (HTMX polling)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_POST

from accounts.decorators import principal_required
from accounts.permissions import Perm
from meetings.models import ProcessingJob
from meetings.uploads import selectors, services
from meetings.uploads import tasks as _tasks  # noqa: F401  (registers the pipeline task with Celery)
from meetpilot.errors import DomainError, Invalid

# HTMX stops polling when a response has this status.
HTMX_STOP_POLLING = 286


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _meeting_url(meeting_id: int) -> str:
    try:
        return reverse("meetings:detail", args=[meeting_id])
    except NoReverseMatch:
        return reverse("uploads:processing", args=[meeting_id])


@principal_required(perm=Perm.MEETING_EDIT)
def upload_new(request: HttpRequest) -> HttpResponse:
    p = request.principal
    if request.method == "POST":
        uploaded = request.FILES.get("file")
        try:
            if uploaded is None:
                raise Invalid("Choose a recording to upload.", code="no_file")
            speakers = request.POST.get("speakers") or None
            meeting = services.recording_upload(
                company=p.company, user=request.user, uploaded=uploaded, title=request.POST.get("title", ""),
                language=request.POST.get("language", ""),
                speaker_count_hint=int(speakers) if speakers and speakers.isdigit() else None)
        except DomainError as exc:
            if _wants_json(request):
                return JsonResponse({"detail": exc.detail, "code": exc.code}, status=exc.status)
            messages.error(request, str(exc.detail))
        else:
            target = reverse("uploads:processing", args=[meeting.pk])
            if _wants_json(request):
                return JsonResponse({"meeting_id": meeting.pk, "redirect": target}, status=202)
            return redirect(target)
    context = {
        "recent": selectors.processing_recent(company=p.company),
        "max_mb": settings.UPLOAD_MAX_BYTES // (1024 * 1024),
        "max_hours": settings.UPLOAD_MAX_SECONDS / 3600,
    }
    return render(request, "uploads/upload.html", context)


@require_POST
@principal_required(perm=Perm.MEETING_EDIT)
def transcript_import(request: HttpRequest) -> HttpResponse:
    p = request.principal
    uploaded = request.FILES.get("file")
    try:
        if uploaded is None:
            raise Invalid("Choose a transcript file to import.", code="no_file")
        meeting = services.transcript_import(company=p.company, user=request.user, uploaded=uploaded,
                                             title=request.POST.get("title", ""))
    except DomainError as exc:
        if _wants_json(request):
            return JsonResponse({"detail": exc.detail, "code": exc.code}, status=exc.status)
        messages.error(request, str(exc.detail))
        return redirect("uploads:new")
    messages.success(request, f"Imported “{meeting.title}”.")
    target = _meeting_url(meeting.pk)
    if _wants_json(request):
        return JsonResponse({"meeting_id": meeting.pk, "redirect": target}, status=201)
    return redirect(target)


def _stage_rows(job: ProcessingJob) -> list[dict]:
    stages = job.stages or {}
    names = [name for name, _ in services.STAGES] if job.kind == "recording" else list(stages) or ["import"]
    rows = []
    for name in names:
        entry = stages.get(name, {})
        percent = float(entry.get("percent", 0))
        state = "failed" if job.status == "failed" and job.error_stage == name else (
            "done" if percent >= 100 else ("active" if job.stage == name and job.status == "running" else "waiting"))
        rows.append({"name": name, "label": services.STAGE_LABELS.get(name, name.title()), "percent": percent,
                     "seconds": entry.get("seconds"), "state": state})
    return rows


@principal_required(perm=Perm.VIEW)
def processing(request: HttpRequest, meeting_id: int) -> HttpResponse:
    job = selectors.processing_get(company=request.principal.company, meeting_id=meeting_id)
    context = {"job": job, "meeting": job.meeting, "stages": _stage_rows(job),
               "finished": job.status in (ProcessingJob.Status.DONE, ProcessingJob.Status.FAILED),
               "meeting_url": _meeting_url(meeting_id)}
    if job.status == ProcessingJob.Status.DONE:
        context["segments"] = selectors.segment_list(company=request.principal.company, meeting=job.meeting, limit=20)
    if request.htmx:
        status = HTMX_STOP_POLLING if context["finished"] else 200
        return render(request, "uploads/processing.html#progress", context, status=status)
    return render(request, "uploads/processing.html", context)


@require_POST
@principal_required(perm=Perm.MEETING_EDIT)
def processing_retry(request: HttpRequest, meeting_id: int) -> HttpResponse:
    job = selectors.processing_get(company=request.principal.company, meeting_id=meeting_id)
    try:
        services.processing_retry(company=request.principal.company, meeting=job.meeting)
        messages.success(request, "Processing started again.")
    except DomainError as exc:
        messages.error(request, str(exc.detail))
    return redirect("uploads:processing", meeting_id=meeting_id)
