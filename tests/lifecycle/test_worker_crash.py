"""A worker killed with SIGKILL in the middle of a task: a new worker finishes the work exactly once.

Tasks are acknowledged after they ran (``acks_late``), so the message of a killed worker stays
unacknowledged in Redis and goes back to its queue after the visibility timeout (3 s here); the next
worker runs the task again and the idempotent services leave one result.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.tenancy import tenant_scope
from knowledge.models import Chunk, Document
from meetings.models import MeetingReport, Participant, ProcessingJob, TranscriptSegment
from tests.lifecycle.conftest import wait_for
from tests.speech import synth

pytestmark = [pytest.mark.slow]

POLICY = " ".join(f"Clause {i}: the travel policy allows {i + 2} nights in a partner hotel per trip."
                  for i in range(60))


def _document(company, document_id):
    with tenant_scope(company):
        return Document.objects.get(pk=document_id)


def _queues_drained(broker) -> bool:
    return broker.hlen("unacked") == 0 and all(broker.llen(q) == 0 for q in settings.CELERY_QUEUES_ALL)


def test_ingestion_killed_midway_finishes_once_on_a_new_worker(worker_processes, broker, manager, company):
    response = manager.api().post("/api/v1/documents", data={"files": [SimpleUploadedFile("policy.txt",
                                                                                          POLICY.encode())]})
    assert response.status_code == 201, response.content
    document_id = response.json()["created"][0]["id"]

    first, marker = worker_processes.start("ingestion", slow="ingestion")
    wait_for(marker.exists, timeout=60, what="the first worker to start ingesting", workers=worker_processes)
    worker_processes.kill(first)
    document = _document(company, document_id)
    assert document.status == Document.Status.PROCESSING and document.stage == "embedding"
    assert broker.hlen("unacked") == 1  # the killed worker never acknowledged the message

    worker_processes.start("ingestion", "integrations", "default")  # integrations: the document.ready event
    wait_for(lambda: not _document(company, document_id).is_pending, timeout=90, what="the document",
             workers=worker_processes)
    document = _document(company, document_id)
    assert document.status == Document.Status.READY, document.error
    with tenant_scope(company):
        chunks = list(Chunk.objects.filter(source_type="document", source_id=document_id).order_by("position"))
    assert len(chunks) == document.chunk_count > 1
    assert [c.position for c in chunks] == list(range(len(chunks)))  # one set, no leftovers of the first run
    assert all(c.document_id == document_id and c.embedding is not None for c in chunks)
    # Acknowledged once: nothing is waiting to be run a third time.
    wait_for(lambda: _queues_drained(broker), timeout=10, what="the message to be acknowledged")


def test_transcription_killed_midway_finishes_once_with_one_report(worker_processes, broker, admin, company,
                                                                   tmp_path):
    files, _turns = synth.meeting_files(tmp_path, "crash", synth.TWO_SPEAKERS[:2])
    with open(files["wav"], "rb") as handle:
        response = admin.api().post("/api/v1/meetings/upload", {"file": handle, "title": "Crash review"})
    assert response.status_code == 202, response.content
    meeting_id = response.json()["meeting_id"]

    def job() -> ProcessingJob:
        with tenant_scope(company):
            return ProcessingJob.objects.get(meeting_id=meeting_id)

    first, marker = worker_processes.start("speech", slow="speech")
    wait_for(marker.exists, timeout=60, what="the first worker to start transcribing", workers=worker_processes)
    worker_processes.kill(first)
    killed = job()
    assert (killed.status, killed.stage, killed.attempts) == (ProcessingJob.Status.RUNNING, "transcribe", 1)

    worker_processes.start("speech", "reports", "integrations", "default")  # and the events they publish

    def report_done() -> bool:
        with tenant_scope(company):
            return MeetingReport.objects.filter(meeting_id=meeting_id, status="done").exists()

    wait_for(report_done, timeout=150, what="the report", workers=worker_processes)
    finished = job()
    assert (finished.status, finished.attempts) == (ProcessingJob.Status.DONE, 2)
    with tenant_scope(company):
        segments = list(TranscriptSegment.objects.filter(meeting_id=meeting_id).order_by("sequence"))
        assert MeetingReport.objects.filter(meeting_id=meeting_id).count() == 1
        speakers = Participant.objects.filter(meeting_id=meeting_id).count()
        transcript_chunks = list(Chunk.objects.filter(source_type="transcript", source_id=meeting_id)
                                 .values_list("position", flat=True).order_by("position"))
    assert segments and [s.sequence for s in segments] == list(range(1, len(segments) + 1))
    assert "revenue" in " ".join(s.text.lower() for s in segments)
    assert speakers == len({s.participant_id for s in segments})
    assert transcript_chunks == list(range(len(transcript_chunks))) and transcript_chunks
    wait_for(lambda: _queues_drained(broker), timeout=10, what="every message to be acknowledged")
