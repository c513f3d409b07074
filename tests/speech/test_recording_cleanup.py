"""Deleting a meeting deletes its uploaded recording from storage."""

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from accounts.tenancy import tenant_scope
from meetings.models import Meeting, ProcessingJob
from tests.meetings.factories import meeting_make


@pytest.mark.django_db(transaction=True)
def test_deleting_the_meeting_deletes_the_recording_file(company, manager):
    meeting = meeting_make(company=company, platform=Meeting.Platform.UPLOAD)
    key = default_storage.save(f"uploads/{company.pk}/test-recording.wav", ContentFile(b"RIFF0000WAVE"))
    with tenant_scope(company):
        ProcessingJob.objects.create(company=company, meeting=meeting, storage_key=key)
    assert default_storage.exists(key)
    response = manager.api().delete(f"/api/v1/meetings/{meeting.pk}")
    assert response.status_code in (200, 204)
    assert not default_storage.exists(key)
