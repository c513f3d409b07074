"""Queues by kind of work: routing by task name, every queue consumed, speech never in the way of documents."""

from __future__ import annotations

import pytest
from celery import current_app
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.tenancy import tenant_scope
from knowledge.models import Document
from meetings.models import ProcessingJob
from meetpilot.settings.runtime import QUEUE_GROUPS, queue_name
from tests.lifecycle.conftest import wait_for
from tests.speech import synth

PREFIX = settings.CELERY_QUEUE_PREFIX


@pytest.mark.parametrize(("task", "group"), [
    ("meetings.uploads.recording_process", "speech"),
    ("knowledge.document_ingest", "ingestion"),
    ("intelligence.meeting_report_generate", "reports"),
    ("intelligence.meeting_index", "reports"),
    ("integrations.jira.issue_sync", "integrations"),
    ("webhooks.deliver", "integrations"),
    ("lifecycle.retention_sweep", "default"),
    ("lifecycle.retention_apply", "default"),
])
def test_each_task_goes_to_its_queue(task, group):
    assert current_app.amqp.router.route({}, task)["queue"].name == queue_name(group)


def test_tasks_of_the_integrations_package_go_to_its_queue_whatever_their_name():
    @current_app.task(name="tests.lifecycle.odd_name")
    def odd_name():
        return None

    def queue_of(task):
        return current_app.amqp.router.route({}, task.name, task_type=task)["queue"].name

    odd_name.run.__module__ = "integrations.slack.tasks"  # as if defined there
    assert queue_of(odd_name) == queue_name("integrations")
    odd_name.run.__module__ = "meetings.somewhere"
    assert queue_of(odd_name) == queue_name("default")


def test_queue_names_keep_the_isolation_prefix():
    assert queue_name("default") == PREFIX == settings.CELERY_TASK_DEFAULT_QUEUE
    assert [PREFIX, *(f"{PREFIX}.{g}" for g in QUEUE_GROUPS[1:])] == settings.CELERY_QUEUES_ALL
    assert {q.name for q in settings.CELERY_TASK_QUEUES} == set(settings.CELERY_QUEUES_ALL)
    with pytest.raises(ValueError):
        queue_name("video")


def test_every_registered_task_is_routed_to_a_known_queue():
    current_app.loader.import_default_modules()
    ours = [name for name in current_app.tasks if not name.startswith(("celery.", "tests."))]
    assert "knowledge.document_ingest" in ours
    for name in ours:
        assert current_app.amqp.router.route({}, name)["queue"].name in settings.CELERY_QUEUES_ALL, name


def test_the_test_worker_consumes_every_queue(celery_worker):
    consumed = {q.name for q in celery_worker.consumer.task_consumer.queues}
    assert consumed == set(settings.CELERY_QUEUES_ALL)


@pytest.mark.slow
def test_a_long_recording_does_not_hold_up_a_document(worker_processes, admin, company, tmp_path):
    files, _turns = synth.meeting_files(tmp_path, "long", synth.TWO_SPEAKERS[:1])
    with open(files["wav"], "rb") as handle:
        response = admin.api().post("/api/v1/meetings/upload", {"file": handle, "title": "Two hours"})
    assert response.status_code == 202, response.content
    meeting_id = response.json()["meeting_id"]
    _speech, transcribing = worker_processes.start("speech", slow="speech", seconds=120)
    worker_processes.start("ingestion")
    wait_for(transcribing.exists, timeout=60, what="the speech worker to start transcribing", workers=worker_processes)

    response = admin.api().post("/api/v1/documents", data={"files": [SimpleUploadedFile(
        "faq.txt", b"Support answers within four hours on business days.")]})
    assert response.status_code == 201, response.content
    document_id = response.json()["created"][0]["id"]

    def ready() -> bool:
        with tenant_scope(company):
            return Document.objects.get(pk=document_id).status == Document.Status.READY

    wait_for(ready, timeout=60, what="the document", workers=worker_processes)
    with tenant_scope(company):
        job = ProcessingJob.objects.get(meeting_id=meeting_id)
    assert (job.status, job.stage) == (ProcessingJob.Status.RUNNING, "transcribe")  # still busy with speech
