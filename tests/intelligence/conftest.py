import uuid

import pytest

from knowledge import retrieval
from tests.fakes.openai_server import fake_openai  # noqa: F401  (the fixture, for these tests)


@pytest.fixture(autouse=True)
def intelligence_env(settings, tmp_path):
    """No language model unless a test configures the fake one; the local embedder; a private cache."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.LLM_BASE_URL = ""
    settings.LLM_API_KEY = ""
    settings.ANTHROPIC_API_KEY = ""
    settings.EMBEDDINGS_PROVIDER = "local"
    # The analysis runs without sentence embeddings here (10x faster on long meetings; same code path).
    settings.INTELLIGENCE_ANALYSIS_EMBED = False
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": f"intelligence-{uuid.uuid4().hex}"}}
    retrieval.counts_forget()
    yield
    retrieval.counts_forget()


@pytest.fixture
def no_enqueue(monkeypatch):
    """Record pipeline enqueues instead of sending them to the broker (tests without a worker)."""
    from meetings.intelligence import tasks

    calls: list[dict] = []
    monkeypatch.setattr(tasks.meeting_report_generate, "delay", lambda **kw: calls.append(kw))
    monkeypatch.setattr(tasks.meeting_index, "delay", lambda **kw: calls.append({"index": True, **kw}))
    return calls
