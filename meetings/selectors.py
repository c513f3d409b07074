"""Reads for meetings. The company always comes first; a foreign id is a 404 like a missing one."""

from __future__ import annotations

from django.shortcuts import get_object_or_404

from accounts.models import Company
from meetings.models import Meeting


def meeting_get(*, company: Company, meeting_id: int) -> Meeting:
    return get_object_or_404(Meeting.objects.for_company(company), pk=meeting_id)
