"""Documents and Ask in a real browser against daphne, with the real Celery worker ingesting.

Drag-and-drop's file input takes three files; each gets its own progress bar that moves through
the stages until ready (or refused); then a question streams back with clickable sources.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from accounts.tenancy import tenant_scope
from knowledge.models import Document
from tests.browser.conftest import (  # noqa: F401  (fixtures of the browser suite)
    _new_page,
    asgi_server,
    browser,
    console_errors,
    server,
    signed_in_page,
)
from tests.knowledge import corpus
from tests.knowledge.files import make_docx, make_pdf

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def shared_with_daphne(settings, company):
    """The daphne process stores uploads under its MEDIA_ROOT and caches answers in Redis: the worker
    in this process must read the same files and bump the same cache generation."""
    from meetpilot.settings import runtime

    settings.MEDIA_ROOT = str(Path(settings.VAR_DIR) / "media")
    settings.CACHES = runtime.CACHES
    yield
    shutil.rmtree(Path(settings.MEDIA_ROOT) / "documents" / str(company.pk), ignore_errors=True)


def test_upload_three_files_watch_them_ingest_and_ask(server, signed_in_page, manager, company,  # noqa: F811
                                                      celery_worker, shared_with_daphne,
                                                      console_errors):  # noqa: F811
    page = signed_in_page(manager)
    page.goto("/documents/")
    page.get_by_text("No documents yet").wait_for()
    page.set_input_files("#kb-files", files=[
        {"name": "q3-report.pdf", "mimeType": "application/pdf",
         "buffer": make_pdf([corpus.Q3_REPORT, corpus.ONBOARDING])},
        {"name": "refunds.docx", "mimeType": "application/octet-stream",
         "buffer": make_docx(corpus.REFUND.split("\n\n"))},
        {"name": "fake.pdf", "mimeType": "application/pdf", "buffer": b"this is not a PDF"},
    ])
    rows = page.locator(".kb-upload")
    rows.nth(2).wait_for()
    assert rows.count() == 3
    for name in ("q3-report.pdf", "refunds.docx"):
        row = rows.filter(has_text=name)
        row.locator(".kb-upload-stage", has_text="ready").wait_for(timeout=60_000)
        assert row.locator(".progress.done").count() == 1
    refused = rows.filter(has_text="fake.pdf")
    refused.locator(".kb-upload-stage", has_text="refused").wait_for()
    assert "content is plain text" in refused.inner_text()
    # The table refreshed itself (HTMX) with both documents, ready.
    page.locator("#documents-table", has_text="refunds").wait_for()
    assert page.locator("#documents-table .badge-ready").count() == 2
    with tenant_scope(company):
        assert Document.objects.filter(status="ready").count() == 2

    page.goto("/ask/")
    page.fill("#kb-question", "What was the revenue in the third quarter?")
    page.click("#kb-ask-button")
    page.locator("#kb-sources li").first.wait_for()
    assert "18.7 million" in page.inner_text("#kb-answer-text")
    assert "q3-report" in page.inner_text("#kb-sources li >> nth=0")
    assert "confidence" in page.inner_text("#kb-confidence")
    page.click("#kb-sources li >> nth=0 >> a")
    page.locator("#kb-passage .kb-focus").wait_for()
    assert "18.7 million" in page.inner_text("#kb-passage .kb-focus")
    # The browser logs the refused upload's 415 as a failed resource; nothing else may appear.
    assert [e for e in console_errors if "status of 415" not in e] == []
    assert len(console_errors) <= 1
