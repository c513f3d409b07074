"""Signal receivers, connected in ``MeetingsConfig.ready`` (imports stay inside: ready() runs early)."""

from __future__ import annotations

from typing import Any


def on_transcript_completed(sender: object, *, company_id: int, meeting_id: int, **kwargs: Any) -> None:
    """A live meeting ended or an upload finished: queue the after-meeting pipeline."""
    from meetings.intelligence.services import report_enqueue

    report_enqueue(company_id=company_id, meeting_id=meeting_id)


def on_meeting_deleted(sender: object, *, instance: Any, **kwargs: Any) -> None:
    """A deleted meeting leaves no chunks behind in search.

    Runs in the scope of the code that deleted the meeting (``meeting_delete`` from a request or a
    task). Deleting a whole company is maintenance: do it under ``scopes_disabled()`` (its chunks go
    with it through the company FK's cascade anyway); outside any scope this raises, as tenancy should.
    """
    from accounts.models import Company
    from meetings.intelligence.indexing import meeting_unindex

    if getattr(instance, "company_id", None) is None:
        return
    meeting_unindex(company=Company(pk=instance.company_id), meeting_id=instance.pk)
