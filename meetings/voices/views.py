"""Dashboard page for your voice: consent, enrolment from a short recording, export, deletion;
the admin switch for the company."""

from __future__ import annotations

import json

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.decorators import principal_required
from accounts.permissions import Perm, role_has_perm
from meetings.voices import selectors, services
from meetpilot.errors import DomainError, Invalid


@principal_required(perm=Perm.VIEW)
def voices_page(request: HttpRequest) -> HttpResponse:
    p = request.principal
    return render(request, "voices/voices.html", {
        "status": selectors.voice_status(company=p.company, user=request.user),
        "can_manage": role_has_perm(p.role, Perm.SETTINGS_MANAGE),
    })


@require_POST
@principal_required(perm=Perm.VIEW)
def voices_enrol(request: HttpRequest) -> HttpResponse:
    p = request.principal
    try:
        if request.POST.get("consent") != services.CONSENT_VERSION:
            raise Invalid("Tick the consent box to enrol your voice.", code="consent_required")
        if "file" not in request.FILES:
            raise Invalid("Choose or record a voice sample.", code="no_file")
        services.voice_enrol_recording(company=p.company, user=request.user, uploaded=request.FILES["file"],
                                       consent_version=services.CONSENT_VERSION)
    except DomainError as exc:
        messages.error(request, str(exc.detail))
    else:
        messages.success(request, "Your voice is enrolled: meetings will show your name when you speak.")
    return redirect("voices:page")


@principal_required(perm=Perm.VIEW)
def voices_export(request: HttpRequest) -> HttpResponse:
    data = services.voice_data_export(company=request.principal.company, user=request.user)
    response = HttpResponse(json.dumps(data, indent=2), content_type="application/json")
    response["Content-Disposition"] = 'attachment; filename="my-voice-data.json"'
    return response


@require_POST
@principal_required(perm=Perm.VIEW)
def voices_delete(request: HttpRequest) -> HttpResponse:
    counts = services.voice_data_delete(company=request.principal.company, user=request.user, by_user=request.user)
    messages.success(request, f"Deleted {counts['voiceprints']} voiceprint(s) and {counts['meeting_voices']} "
                              "meeting voice(s); your consent is withdrawn.")
    return redirect("voices:page")


@require_POST
@principal_required(perm=Perm.SETTINGS_MANAGE)
def voices_setting(request: HttpRequest) -> HttpResponse:
    services.voice_identification_set(company=request.principal.company, by_user=request.user,
                                      enabled=request.POST.get("enabled") == "on")
    return redirect("voices:page")
