import uuid

import pytest

from knowledge import retrieval
from tests.fakes.openai_server import fake_openai  # noqa: F401  (the fixture, for these tests)


@pytest.fixture(autouse=True)
def knowledge_env(settings, tmp_path):
    """Each test: its own file storage and cache, no LLM unless the test configures the fake one."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": f"knowledge-{uuid.uuid4().hex}"}}
    settings.LLM_BASE_URL = ""
    settings.LLM_API_KEY = ""
    settings.EMBEDDINGS_PROVIDER = "local"
    retrieval.counts_forget()
    yield
    retrieval.counts_forget()
