import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.tenancy import tenant_scope
from knowledge import services
from knowledge.models import Chunk, Document
from tests.knowledge import corpus
from tests.knowledge.factories import document_ingested
from tests.knowledge.files import make_docx, make_docx_bomb, make_pdf, make_png, make_zip

pytestmark = pytest.mark.django_db


def upload(client, *files, **fields):
    data = {"files": [SimpleUploadedFile(name, content) for name, content in files], **fields}
    return client.post("/api/v1/documents", data=data)


def ingest(company, document_id):
    with tenant_scope(company):
        return services.document_ingest(company=company, document_id=document_id)


@pytest.fixture
def acme_doc(company):
    return document_ingested(company=company, title="Q3 financial report", text=corpus.Q3_REPORT, tags=["finance"])


@pytest.fixture
def globex_doc(other_company):
    return document_ingested(company=other_company, title="Project Hydra plan", text=corpus.GLOBEX)


# --- upload --------------------------------------------------------------------------------------


def test_upload_several_files_then_ingest(manager, company):
    response = upload(manager.api(), ("notes.txt", b"Plain text notes about the roadmap."),
                      ("spec.pdf", make_pdf(["Page one text.", "Page two text."])),
                      ("brief.docx", make_docx(["Brief", "A short brief."])),
                      access_level="confidential", tags="Roadmap, Q4 ,roadmap")
    assert response.status_code == 201, response.content
    body = response.json()
    assert [d["original_filename"] for d in body["created"]] == ["notes.txt", "spec.pdf", "brief.docx"]
    assert body["duplicates"] == [] and body["rejected"] == []
    for created in body["created"]:
        assert created["status"] == "processing" and created["stage"] == "queued"
        assert created["access_level"] == "confidential" and created["tags"] == ["roadmap", "q4"]
        assert len(created["sha256"]) == 64
    types = {d["original_filename"]: d["type"] for d in body["created"]}
    assert types == {"notes.txt": "txt", "spec.pdf": "pdf", "brief.docx": "docx"}
    pdf = ingest(company, body["created"][1]["id"])
    assert pdf.status == "ready" and pdf.page_count == 2 and pdf.chunk_count == 2  # one per page


def test_duplicate_upload_is_reported_not_ingested_twice(manager, company):
    first = upload(manager.api(), ("a.txt", b"The same words twice."))
    assert first.status_code == 201
    again = upload(manager.api(), ("copy-of-a.txt", b"The same words twice."))
    assert again.status_code == 200
    body = again.json()
    assert body["created"] == [] and len(body["duplicates"]) == 1
    assert body["duplicates"][0]["document"]["id"] == first.json()["created"][0]["id"]
    assert "already uploaded" in body["duplicates"][0]["detail"]
    with tenant_scope(company):
        assert Document.objects.count() == 1


@pytest.mark.parametrize(("name", "content", "status", "code"), [
    ("empty.txt", b"", 400, "empty_file"),
    ("photo.png", make_png(), 415, "unsupported_type"),
    ("report.pdf", b"Just some text pretending to be a PDF.", 415, "content_mismatch"),
    ("notes.txt", make_pdf(["I am a PDF in disguise."]), 415, "content_mismatch"),
    ("image.pdf", make_png(), 415, "content_mismatch"),
    ("archive.docx", make_zip(), 415, "content_mismatch"),
    ("fake.docx", b"This is not a Word document.", 415, "content_mismatch"),
    ("program.txt", b"\x7fELF\x02\x01\x01" + b"\0" * 100, 415, "content_mismatch"),
], ids=["empty", "png", "text-as-pdf", "pdf-as-txt", "png-as-pdf", "zip-as-docx", "text-as-docx", "binary-as-txt"])
def test_bad_uploads_are_refused_with_a_reason(manager, company, name, content, status, code):
    response = upload(manager.api(), (name, content))
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == code
    assert body["detail"][0]["filename"] == name and name in body["detail"][0]["detail"]
    with tenant_scope(company):
        assert not Document.objects.exists()


def test_size_limits(manager, settings):
    settings.KNOWLEDGE_MAX_UPLOAD_BYTES = 1000
    response = upload(manager.api(), ("big.txt", b"x" * 1001))
    assert response.status_code == 413 and response.json()["code"] == "too_large"
    settings.KNOWLEDGE_MAX_UPLOAD_BYTES = 10_000_000
    settings.KNOWLEDGE_MAX_DOCX_UNPACKED_BYTES = 2 * 1024 * 1024
    bomb = make_docx_bomb(5_000_000)
    assert len(bomb) < 100_000  # small on the wire...
    response = upload(manager.api(), ("bomb.docx", bomb))
    assert response.status_code == 413  # ...but refused for its unpacked size
    detail = response.json()["detail"][0]["detail"]
    assert "unpacks to" in detail and "over the 2 MB limit" in detail


def test_mixed_upload_reports_each_file(manager):
    response = upload(manager.api(), ("good.txt", b"Good text."), ("bad.pdf", b"not a pdf"))
    assert response.status_code == 201
    body = response.json()
    assert [d["original_filename"] for d in body["created"]] == ["good.txt"]
    assert [r["filename"] for r in body["rejected"]] == ["bad.pdf"]


def test_uploads_need_document_edit(member):
    response = upload(member.api(), ("a.txt", b"hello"))
    assert response.status_code == 403


def test_members_cannot_upload_confidential_and_unauthenticated_is_401(manager, member, client):
    assert client.get("/api/v1/documents").status_code == 401
    response = upload(manager.api(), ("a.txt", b"hello"), access_level="secret")
    assert response.status_code == 422


# --- documents ------------------------------------------------------------------------------------


def test_document_crud(manager, company, acme_doc):
    api = manager.api()
    listed = api.get("/api/v1/documents?page_size=10").json()
    assert listed["count"] == 1 and listed["items"][0]["id"] == acme_doc.pk
    assert api.get("/api/v1/documents?tag=finance").json()["count"] == 1
    assert api.get("/api/v1/documents?tag=nope").json()["count"] == 0
    assert api.get("/api/v1/documents?status=failed").json()["count"] == 0
    assert api.get(f"/api/v1/documents/{acme_doc.pk}").json()["title"] == "Q3 financial report"
    status = api.get(f"/api/v1/documents/{acme_doc.pk}/status").json()
    assert status == {"id": acme_doc.pk, "status": "ready", "stage": "", "progress": 100, "error": "",
                      "chunk_count": 1}
    chunks = api.get(f"/api/v1/documents/{acme_doc.pk}/chunks").json()
    assert chunks["count"] == 1 and "18.7 million" in chunks["items"][0]["text"]
    patched = api.patch(f"/api/v1/documents/{acme_doc.pk}", data={"title": "Q3 report", "tags": ["Board"],
                                                                     "access_level": "confidential"},
                        content_type="application/json")
    assert patched.status_code == 200, patched.content
    assert patched.json()["tags"] == ["board"] and patched.json()["access_level"] == "confidential"
    with tenant_scope(company):
        assert set(Chunk.objects.values_list("access_level", "title")) == {("confidential", "Q3 report")}
    reindex = api.post(f"/api/v1/documents/{acme_doc.pk}/reindex")
    assert reindex.status_code == 202 and reindex.json()["status"] == "processing"
    assert ingest(company, acme_doc.pk).chunk_count == 1
    assert api.delete(f"/api/v1/documents/{acme_doc.pk}").status_code == 204
    assert api.get(f"/api/v1/documents/{acme_doc.pk}").status_code == 404
    with tenant_scope(company):
        assert not Chunk.objects.exists()


def test_members_read_but_do_not_write_and_never_see_confidential(member, company, acme_doc):
    secret = document_ingested(company=company, title="Runbook", text=corpus.SECURITY, access_level="confidential")
    api = member.api()
    assert api.get(f"/api/v1/documents/{acme_doc.pk}").status_code == 200
    assert [d["id"] for d in api.get("/api/v1/documents").json()["items"]] == [acme_doc.pk]
    assert api.get(f"/api/v1/documents/{secret.pk}").status_code == 404
    assert api.get(f"/api/v1/documents/{secret.pk}/chunks").status_code == 404
    assert api.delete(f"/api/v1/documents/{acme_doc.pk}").status_code == 403
    assert api.post(f"/api/v1/documents/{acme_doc.pk}/reindex").status_code == 403
    assert api.patch(f"/api/v1/documents/{acme_doc.pk}", data={"title": "x"},
                     content_type="application/json").status_code == 403


def test_another_companys_ids_are_404(outsider, acme_doc, globex_doc):
    api = outsider.api()
    for method, path in [("get", ""), ("get", "/status"), ("get", "/chunks"), ("post", "/reindex"),
                         ("delete", ""), ("patch", "")]:
        kwargs = {"data": {"title": "stolen"}, "content_type": "application/json"} if method == "patch" else {}
        response = getattr(api, method)(f"/api/v1/documents/{acme_doc.pk}{path}", **kwargs)
        assert response.status_code == 404, (method, path)
        assert response.json()["code"] == "not_found"
    assert [d["id"] for d in api.get("/api/v1/documents").json()["items"]] == [globex_doc.pk]


# --- search and questions ----------------------------------------------------------------------------


def test_search_is_ranked_paginated_and_company_scoped(member, outsider, company, acme_doc, globex_doc):
    document_ingested(company=company, title="Refund policy", text=corpus.REFUND)
    body = member.api().get("/api/v1/search", {"q": "third quarter revenue", "page_size": 1}).json()
    assert body["items"][0]["document_id"] == acme_doc.pk and body["has_more"] is True
    assert body["page"] == 1 and body["mode"] == "hybrid"
    page2 = member.api().get("/api/v1/search", {"q": "third quarter revenue", "page_size": 1, "page": 2}).json()
    assert page2["items"][0]["chunk_id"] != body["items"][0]["chunk_id"]
    fulltext = member.api().get("/api/v1/search", {"q": '"18.7 million"', "mode": "fulltext"}).json()
    assert [h["document_id"] for h in fulltext["items"]] == [acme_doc.pk]
    assert member.api().get("/api/v1/search", {"q": "x", "mode": "magic"}).status_code == 422
    theirs = outsider.api().get("/api/v1/search", {"q": "third quarter revenue"}).json()
    assert {h["document_id"] for h in theirs["items"]} <= {globex_doc.pk}


def test_query(member, acme_doc, globex_doc):
    response = member.api().post("/api/v1/query", data={"question": "What was the revenue in the third quarter?"},
                                 content_type="application/json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["known"] is True and "18.7 million" in body["answer"]
    assert body["sources"][0]["document_id"] == acme_doc.pk and body["sources"][0]["title"] == acme_doc.title
    assert set(body["sources"][0]) >= {"document_id", "title", "page", "snippet", "score"}
    assert body["confidence"] in {"high", "medium", "low"}
    unknown = member.api().post("/api/v1/query", data={"question": "Who painted the Mona Lisa?"},
                                content_type="application/json").json()
    assert unknown["known"] is False and unknown["sources"] == [] and "don't know" in unknown["answer"]
    hydra = member.api().post("/api/v1/query", data={"question": "When does Project Hydra launch?"},
                              content_type="application/json").json()
    assert all(s["document_id"] != globex_doc.pk for s in hydra["sources"])
    bad = member.api().post("/api/v1/query", data={"question": ""}, content_type="application/json")
    assert bad.status_code == 422


def read_sse(response) -> list[tuple[str, dict]]:
    assert response["Content-Type"].startswith("text/event-stream")
    raw = b"".join(response).decode()  # consumes the async stream the way a sync server would
    events = []
    for block in raw.split("\n\n"):
        lines = [line for line in block.split("\n") if line and not line.startswith(":")]
        if not lines:
            continue
        event = next(line[6:].strip() for line in lines if line.startswith("event:"))
        data = json.loads("".join(line[5:].strip() for line in lines if line.startswith("data:")))
        events.append((event, data))
    return events


def test_stream_local_answer_with_token_and_with_session_cookie(member, acme_doc):
    response = member.api().post("/api/v1/query/stream", data={"question": "What was the revenue in Q3?"},
                                 content_type="application/json")
    assert response.status_code == 200
    events = read_sse(response)
    deltas = "".join(d["text"] for e, d in events if e == "delta")
    kind, done = events[-1]
    assert kind == "done" and done["known"] and done["provider"] == "local"
    assert deltas == done["answer"] and done["sources"][0]["document_id"] == acme_doc.pk
    # The dashboard's EventSource: GET, authenticated by the session cookie.
    browser = member.browser()
    response = browser.get("/api/v1/query/stream", {"question": "What was the revenue in Q3?"})
    assert response.status_code == 200
    assert read_sse(response)[-1][1]["answer"] == done["answer"]


def test_stream_needs_authentication(client):
    assert client.get("/api/v1/query/stream", {"question": "x"}).status_code == 401
