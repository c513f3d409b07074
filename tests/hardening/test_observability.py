"""/metrics exposes every series of meetpilot.metrics, with real samples after a request, a task,
a refused request and a provider fallback; queue depth and age come from the real broker."""

from __future__ import annotations

import time
import uuid

import pytest
import redis
from django.test import Client
from prometheus_client import REGISTRY, Counter, Gauge, Histogram

from meetpilot import metrics, observability
from meetpilot.tasks import task_send
from tests.fakes.openai_server import fake_openai  # noqa: F401

DEFINED = {name: series for name, series in vars(metrics).items() if isinstance(series, Counter | Gauge | Histogram)}


def _metrics_text() -> str:
    response = Client().get("/metrics")
    assert response.status_code == 200
    return response.content.decode()


def _sample(name: str, labels: dict[str, str]) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_every_defined_series_is_exposed(db):
    assert len(DEFINED) >= 12
    text = _metrics_text()
    for series in DEFINED.values():
        family = series._name + ("_total" if isinstance(series, Counter) else "")
        kind = {Counter: "counter", Gauge: "gauge", Histogram: "histogram"}[type(series)]
        assert f"# TYPE {family} {kind}\n" in text, family
        assert f"# HELP {family} {series._documentation}\n" in text, family


def test_a_task_run_is_timed_with_its_outcome(celery_worker, settings):
    from celery import current_app

    from accounts.models import Company

    company = Company.objects.create(name="Tasks Inc")
    labels = {"task": "knowledge.document_ingest", "outcome": "success"}
    before = _sample("meetpilot_task_seconds_count", labels)
    # A document that is gone: the task exits quietly (success) after re-fetching.
    task_send("knowledge.document_ingest", company_id=company.pk, document_id=10**9)
    deadline = time.monotonic() + 30
    while _sample("meetpilot_task_seconds_count", labels) == before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _sample("meetpilot_task_seconds_count", labels) == before + 1
    # A task called with arguments it does not take fails: counted as a failure.
    failed = {"task": "knowledge.document_ingest", "outcome": "failure"}
    before_failed = _sample("meetpilot_task_seconds_count", failed)
    # sent by name, as another process would: the worker's call fails, not this one's
    current_app.send_task("knowledge.document_ingest", kwargs={"company_id": company.pk, "unexpected": True},
                          queue=settings.CELERY_TASK_DEFAULT_QUEUE)
    deadline = time.monotonic() + 30
    while _sample("meetpilot_task_seconds_count", failed) == before_failed and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _sample("meetpilot_task_seconds_count", failed) == before_failed + 1
    text = _metrics_text()
    assert 'meetpilot_task_seconds_count{outcome="success",task="knowledge.document_ingest"}' in text


def test_queue_depth_and_oldest_age_come_from_the_broker(settings):
    queue = f"metrics-test-{uuid.uuid4().hex[:8]}"
    settings.CELERY_TASK_DEFAULT_QUEUE = queue
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    try:
        now = time.time()
        # Two waiting messages as kombu stores them (newest pushed on the left), published 42 s and 2 s ago.
        client.lpush(queue, f'{{"body": "", "headers": {{"published_at": {now - 42}}}}}')
        client.lpush(queue, f'{{"body": "", "headers": {{"published_at": {now - 2}}}}}')
        text = _metrics_text()
        assert f'meetpilot_queue_depth{{queue="{queue}"}} 2.0' in text
        age = _sample("meetpilot_queue_oldest_age_seconds", {"queue": queue})
        assert 41 <= age <= 60
        client.delete(queue)
        _metrics_text()
        assert _sample("meetpilot_queue_depth", {"queue": queue}) == 0
        assert _sample("meetpilot_queue_oldest_age_seconds", {"queue": queue}) == 0
    finally:
        client.delete(queue)
        client.close()


def test_published_tasks_carry_their_publish_time(settings):
    queue = f"stamp-test-{uuid.uuid4().hex[:8]}"
    from meetpilot.celery import app

    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    try:
        app.send_task("knowledge.document_ingest", kwargs={"company_id": 1, "document_id": 1}, queue=queue)
        stats = observability.queue_stats(client, [queue])
        assert stats[queue][0] == 1
        assert 0 <= stats[queue][1] < 30
    finally:
        client.delete(queue)
        client.close()


def test_a_hosted_model_failure_counts_as_a_fallback(fake_openai, settings):  # noqa: F811
    from integrations.llm.providers import OPENAI, ProviderError, ProviderSpec, complete_text

    fake_openai.configure(settings)
    fake_openai.fail(500)
    labels = {"feature": "llm", "provider": "openai"}
    before = _sample("meetpilot_provider_fallbacks_total", labels)
    with pytest.raises(ProviderError):
        complete_text(ProviderSpec(kind=OPENAI, model="gpt-test"), messages=[{"role": "user", "content": "hi"}])
    assert _sample("meetpilot_provider_fallbacks_total", labels) == before + 1
    fake_openai.reply("Fine.")
    assert complete_text(ProviderSpec(kind=OPENAI, model="gpt-test"), messages=[{"role": "user", "content": "hi"}])
    assert _sample("meetpilot_provider_fallbacks_total", labels) == before + 1


def test_a_request_shows_in_the_request_series(db, admin):
    admin.api().get("/api/v1/me")
    text = _metrics_text()
    assert "django_http_requests_total_by_method_total" in text
    assert 'django_http_responses_total_by_status_total{status="200"}' in text


@pytest.fixture
def fake_speech():
    from tests.speech.fakes import FakeSpeechServer

    server = FakeSpeechServer().start()
    try:
        yield server
    finally:
        server.stop()


def test_a_finished_recording_records_its_real_time_factor(db, settings, fake_speech, tmp_path):
    from meetings.speech import audio as audio_io
    from meetings.speech.pipeline import process_audio
    from tests.speech import synth

    files, _turns = synth.meeting_files(tmp_path, "short", synth.TWO_SPEAKERS[:2], formats=("wav",))
    settings.STT_PROVIDER = "openai"  # the fake engine: no model to load, the pipeline is the same
    settings.STT_BASE_URL = fake_speech.base_url + "/v1"
    settings.STT_API_KEY = "sk-test"
    before = _sample("meetpilot_transcription_real_time_factor_count", {"engine": "openai"})
    result = process_audio(audio_io.decode(files["wav"]), language="en")
    assert result.provider == "openai" and result.segments
    assert _sample("meetpilot_transcription_real_time_factor_count", {"engine": "openai"}) == before + 1
    rtf = _sample("meetpilot_transcription_real_time_factor_sum", {"engine": "openai"})
    assert rtf > 0
    assert 'meetpilot_transcription_real_time_factor_count{engine="openai"}' in _metrics_text()


def test_a_failing_speech_engine_counts_as_a_fallback(settings, fake_speech):
    from meetings.speech.tts import synthesize_audio

    fake_speech.status = 500
    settings.TTS_BASE_URL = fake_speech.base_url + "/v1"
    settings.TTS_API_KEY = "sk-test"
    labels = {"feature": "text_to_speech", "provider": "openai"}
    before = _sample("meetpilot_provider_fallbacks_total", labels)
    synthesize_audio("The budget was approved.", provider="openai")  # local voice or None: either is a fallback
    assert _sample("meetpilot_provider_fallbacks_total", labels) == before + 1
