"""Request and response shapes for uploads and transcript imports."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Schema


class ProcessingOut(Schema):
    meeting_id: int
    kind: str
    status: str
    stage: str
    percent: float
    stages: dict[str, Any]
    error: str
    error_stage: str
    attempts: int
    original_filename: str
    size_bytes: int
    duration_seconds: float | None
    speaker_count_hint: int | None
    started_at: datetime | None
    finished_at: datetime | None


class RecordingUploadOut(Schema):
    meeting_id: int
    title: str
    processing: ProcessingOut
    processing_url: str


class ImportOut(Schema):
    meeting_id: int
    title: str
    format: str
    platform: str
    segments: int
    speakers: list[str]
    duration_seconds: float
