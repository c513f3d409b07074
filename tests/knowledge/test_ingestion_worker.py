"""End to end through the real Celery worker: upload over the API, ingest in the worker, search."""

import itertools
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.tenancy import tenant_scope
from knowledge.models import Chunk, Document
from knowledge.retrieval import chunks_search
from tests.knowledge.files import make_corrupt_pdf, make_docx, make_encrypted_pdf, make_image_pdf, make_pdf

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

LONG_PAGE = " ".join(f"Section {i} of the pricing guide explains tier {i} discounts for partners." for i in range(40))

GOOD_FILES = {
    "pricing.pdf": (make_pdf([LONG_PAGE, "The enterprise tier costs 40 euros per seat per month.",
                              "Volume discounts start at 500 seats."]), "enterprise tier costs 40 euros", 3),
    "handbook.docx": (make_docx(["Employee handbook", "Holidays: every employee gets 27 days of paid leave.",
                                 "Remote work is allowed three days a week."],
                                table=[["Office", "City"], ["HQ", "Lisbon"]]), "27 days of paid leave", None),
    "customers.csv": (b"customer,plan,renewal\nInitech,Enterprise,2025-03-01\nUmbrella,Team,2025-07-15\n",
                      "customer: Umbrella; plan: Team; renewal: 2025-07-15", None),
    "faq.html": (b"<html><head><title>FAQ</title><script>document.write('INJECTED')</script></head><body>"
                 b"<h1>FAQ</h1><p>Support answers within <b>four hours</b> on business days.</p>"
                 b"<style>p{color:red}</style></body></html>", "Support answers within four hours", None),
    "notes.md": (b"# Launch notes\n\nThe **Falcon** launch is planned for [June 12](http://x.test).\n",
                 "The Falcon launch is planned for June 12", None),
    "plain.txt": (b"The office wifi password rotates every Monday.", "wifi password rotates every Monday", None),
}

BAD_FILES = {
    "damaged.pdf": (make_corrupt_pdf(), "damaged"),
    "locked.pdf": (make_encrypted_pdf("Secret numbers."), "password"),
    "scan.pdf": (make_image_pdf(), "scanned images"),
    "blank.pdf": (make_pdf(["", ""]), "no text"),
    "spaces.txt": (b"   \n\n\t  \n", "no text"),
    "header-only.csv": (b"name,revenue\n", "no data rows"),
    "broken.docx": (b"PK\x03\x04" + b"\x00" * 300, "damaged"),
}


def upload_all(actor, files: dict[str, bytes]):
    data = {"files": [SimpleUploadedFile(name, content) for name, content in files.items()]}
    response = actor.api().post("/api/v1/documents", data=data)
    assert response.status_code == 201, response.content
    return {d["original_filename"]: d["id"] for d in response.json()["created"]}


def wait_until_done(company, ids, timeout=90.0):
    deadline = time.monotonic() + timeout
    seen_progress: set[int] = set()
    while time.monotonic() < deadline:
        with tenant_scope(company):
            docs = list(Document.objects.filter(pk__in=ids))
        seen_progress.update(d.progress for d in docs)
        if all(not d.is_pending for d in docs):
            return {d.pk: d for d in docs}, seen_progress
        time.sleep(0.1)
    raise AssertionError(f"still processing: {[(d.pk, d.status, d.stage) for d in docs]}")


def test_every_file_type_end_to_end(celery_worker, manager, company):
    ids = upload_all(manager, {name: content for name, (content, _, _) in GOOD_FILES.items()})
    docs, progress = wait_until_done(company, list(ids.values()))
    for name, (_, phrase, pages) in GOOD_FILES.items():
        doc = docs[ids[name]]
        assert doc.status == Document.Status.READY, (name, doc.error)
        assert doc.progress == 100 and doc.chunk_count >= 1 and doc.error == ""
        assert doc.page_count == pages
        with tenant_scope(company):
            chunks = list(Chunk.objects.filter(document=doc).order_by("position"))
        assert len(chunks) == doc.chunk_count
        assert phrase in " ".join(" ".join(c.text.split()) for c in chunks), name
        assert all(c.embedding is not None and len(c.embedding) == 384 for c in chunks)
        hits = chunks_search(company=company, query=phrase, k=3)
        assert hits[0].document_id == doc.pk, name
    assert {p for p in progress if 0 < p < 100}  # the bar moved through intermediate stages
    pdf_chunks = chunks_search(company=company, query="enterprise tier price per seat", k=1,
                               filters={"document_id": ids["pricing.pdf"]})
    assert pdf_chunks[0].page == 2
    with tenant_scope(company):
        html_text = " ".join(Chunk.objects.filter(document_id=ids["faq.html"]).values_list("text", flat=True))
    assert "INJECTED" not in html_text and "color" not in html_text and "<" not in html_text
    # The long first page was split into overlapping chunks that keep their page.
    with tenant_scope(company):
        first_page = list(Chunk.objects.filter(document_id=ids["pricing.pdf"], page=1).order_by("position"))
    assert len(first_page) >= 3
    assert all(len(c.text) <= 1000 for c in first_page)
    assert all(b.start_char < a.end_char for a, b in itertools.pairwise(first_page))


def test_unusable_files_fail_with_a_message(celery_worker, manager, company):
    ids = upload_all(manager, {name: content for name, (content, _) in BAD_FILES.items()})
    docs, _ = wait_until_done(company, list(ids.values()))
    for name, (_, words) in BAD_FILES.items():
        doc = docs[ids[name]]
        assert doc.status == Document.Status.FAILED, name
        assert words in doc.error.lower(), (name, doc.error)
        assert doc.chunk_count == 0
    status = manager.api().get(f"/api/v1/documents/{ids['locked.pdf']}/status").json()
    assert status["status"] == "failed" and "password" in status["error"]


def test_reindex_through_the_worker_is_idempotent(celery_worker, manager, company):
    ids = upload_all(manager, {"guide.pdf": make_pdf([LONG_PAGE, LONG_PAGE[::-1]])})
    docs, _ = wait_until_done(company, list(ids.values()))
    doc = docs[ids["guide.pdf"]]
    with tenant_scope(company):
        before = list(Chunk.objects.filter(document=doc).order_by("position").values_list("position", "text", "page"))
    for _ in range(2):  # twice in a row, the second queued while the first may still run
        assert manager.api().post(f"/api/v1/documents/{doc.pk}/reindex").status_code == 202
    docs, _ = wait_until_done(company, [doc.pk])
    time.sleep(0.5)
    docs, _ = wait_until_done(company, [doc.pk])
    assert docs[doc.pk].status == Document.Status.READY
    with tenant_scope(company):
        after = list(Chunk.objects.filter(document=doc).order_by("position").values_list("position", "text", "page"))
        assert Chunk.objects.filter(document=doc).count() == docs[doc.pk].chunk_count == len(before)
    assert after == before
