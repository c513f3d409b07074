"""Dashboard pages: the upload page, the processing view with HTMX polling, retries."""

from __future__ import annotations

import numpy as np
import pytest
from django.urls import reverse

from accounts.tenancy import tenant_scope
from meetings.models import ProcessingJob
from meetings.uploads import services
from tests.speech import synth


@pytest.fixture
def silent_wav(tmp_path):
    return synth.write_wav(tmp_path / "silence.wav", np.zeros(2 * synth.SAMPLE_RATE, dtype=np.float32))


def _upload(actor, path, **headers):
    with open(path, "rb") as handle:
        return actor.browser().post(reverse("uploads:new"), {"file": handle, "title": "Board call"}, **headers)


def test_upload_page(manager, member):
    response = manager.browser().get(reverse("uploads:new"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "data-dropzone" in body and "uploads.js" in body and reverse("uploads:import") in body
    assert member.browser().get(reverse("uploads:new")).status_code == 403


def test_form_upload_redirects_to_the_processing_view(manager, media_root, silent_wav):
    response = _upload(manager, silent_wav)
    assert response.status_code == 302
    with tenant_scope(manager.company):
        job = ProcessingJob.objects.get()
    assert response["Location"] == reverse("uploads:processing", args=[job.meeting_id])
    page = manager.browser().get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert 'hx-trigger="every 1s"' in html and "Separate speakers" in html


def test_drag_and_drop_upload_answers_json(manager, media_root, silent_wav, tmp_path):
    response = _upload(manager, silent_wav, HTTP_ACCEPT="application/json")
    assert response.status_code == 202
    assert response.json()["redirect"].endswith("/processing/")
    bad = tmp_path / "notes.txt"
    bad.write_text("not audio " * 100)
    response = _upload(manager, bad, HTTP_ACCEPT="application/json")
    assert response.status_code in (400, 415)
    assert response.json()["code"] in ("unreadable", "unsupported_format")


def test_polling_stops_with_286_when_finished(manager, media_root, silent_wav):
    _upload(manager, silent_wav)
    with tenant_scope(manager.company):
        job = ProcessingJob.objects.get()
    url = reverse("uploads:processing", args=[job.meeting_id])
    client = manager.browser()
    running = client.get(url, HTTP_HX_REQUEST="true")
    assert running.status_code == 200
    assert "<html" not in running.content.decode() and 'hx-trigger="every 1s"' in running.content.decode()
    with tenant_scope(manager.company):
        services.recording_process(company_id=manager.company.pk, meeting_id=job.meeting_id)
    finished = client.get(url, HTTP_HX_REQUEST="true")
    assert finished.status_code == 286
    html = finished.content.decode()
    assert "hx-trigger" not in html
    assert "Failed at" in html and "No speech was found" in html
    assert reverse("uploads:retry", args=[job.meeting_id]) in html


def test_retry_view_and_other_company(manager, outsider, media_root, silent_wav):
    _upload(manager, silent_wav)
    with tenant_scope(manager.company):
        job = ProcessingJob.objects.get()
        services.recording_process(company_id=manager.company.pk, meeting_id=job.meeting_id)
    url = reverse("uploads:processing", args=[job.meeting_id])
    retry = reverse("uploads:retry", args=[job.meeting_id])
    assert outsider.browser().get(url).status_code == 404
    assert outsider.browser().post(retry).status_code == 404
    response = manager.browser().post(retry)
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == "queued"


def test_transcript_import_view(manager, tmp_path):
    path = tmp_path / "sync.srt"
    path.write_text("1\n00:00:01,000 --> 00:00:02,000\nAlice: Hi.\n")
    with open(path, "rb") as handle:
        response = manager.browser().post(reverse("uploads:import"), {"file": handle})
    assert response.status_code == 302
    with tenant_scope(manager.company):
        job = ProcessingJob.objects.get()
    assert str(job.meeting_id) in response["Location"]
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    with open(bad, "rb") as handle:
        response = manager.browser().post(reverse("uploads:import"), {"file": handle}, HTTP_ACCEPT="application/json")
    assert response.status_code == 400 and response.json()["code"] == "invalid_transcript"
