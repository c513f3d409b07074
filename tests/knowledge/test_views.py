import pytest
from django.urls import reverse

from accounts.tenancy import tenant_scope
from knowledge.models import Chunk, Document
from tests.knowledge import corpus
from tests.knowledge.factories import document_ingested

pytestmark = pytest.mark.django_db


@pytest.fixture
def doc(company):
    return document_ingested(company=company, title="Q3 financial report", text=corpus.Q3_REPORT, tags=["finance"])


@pytest.fixture
def secret(company):
    return document_ingested(company=company, title="Incident runbook", text=corpus.SECURITY,
                             access_level="confidential")


def test_url_names_for_the_sidebar():
    assert reverse("knowledge:documents") == "/documents/"
    assert reverse("knowledge:ask") == "/ask/"


def test_empty_states(member, manager):
    page = member.browser().get(reverse("knowledge:documents"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "No documents yet" in html and "Ask a manager" in html and "kb-dropzone" not in html
    manager_html = manager.browser().get(reverse("knowledge:documents")).content.decode()
    assert 'id="kb-dropzone"' in manager_html and "multiple" in manager_html
    ask = member.browser().get(reverse("knowledge:ask")).content.decode()
    assert "Nothing to ask yet" in ask
    assert f'href="{reverse("knowledge:documents")}"' in ask  # the sidebar and the empty state link


def test_documents_list_filters_and_pagination(manager, company, doc, secret):
    browser = manager.browser()
    html = browser.get(reverse("knowledge:documents")).content.decode()
    assert "Q3 financial report" in html and "Incident runbook" in html and "finance" in html
    assert "hx-trigger" not in html  # nothing processing: no polling
    filtered = browser.get(reverse("knowledge:documents"), {"tag": "finance"}).content.decode()
    assert "Q3 financial report" in filtered and "Incident runbook" not in filtered
    none = browser.get(reverse("knowledge:documents"), {"status": "failed"}).content.decode()
    assert "No documents match these filters" in none
    for i in range(26):
        document_ingested(company=company, title=f"Note {i}", text=f"Note number {i} about nothing much.")
    first = browser.get(reverse("knowledge:documents")).content.decode()
    assert "Page 1 of 2" in first
    assert "Page 2 of 2" in browser.get(reverse("knowledge:documents"), {"page": 2}).content.decode()


def test_htmx_polling_stops_with_286_when_everything_is_done(manager, company, doc):
    browser = manager.browser()
    with tenant_scope(company):
        Document.objects.filter(pk=doc.pk).update(status="processing", stage="embedding", progress=40)
    page = browser.get(reverse("knowledge:documents")).content.decode()
    assert 'hx-trigger="every 2s"' in page and "embedding · 40%" in page
    fragment = browser.get(reverse("knowledge:documents"), HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200
    assert "<html" not in fragment.content.decode() and 'id="documents-table"' in fragment.content.decode()
    with tenant_scope(company):
        Document.objects.filter(pk=doc.pk).update(status="ready", stage="", progress=100)
    done = browser.get(reverse("knowledge:documents"), HTTP_HX_REQUEST="true")
    assert done.status_code == 286
    assert "hx-trigger" not in done.content.decode() and "Ready" in done.content.decode()
    detail = browser.get(reverse("knowledge:document_detail", args=[doc.pk]) + "?fragment=status",
                         HTTP_HX_REQUEST="true")
    assert detail.status_code == 286


def test_detail_edit_reindex_delete(manager, company, doc):
    browser = manager.browser()
    html = browser.get(reverse("knowledge:document_detail", args=[doc.pk])).content.decode()
    assert "18.7 million" in html and doc.sha256 in html and "1 passage searchable" in html
    response = browser.post(reverse("knowledge:document_edit", args=[doc.pk]),
                            {"title": "Q3 report (final)", "tags": "finance, board", "access_level": "public"})
    assert response.status_code == 302
    doc.refresh_from_db()
    assert doc.title == "Q3 report (final)" and doc.tags == ["finance", "board"] and doc.access_level == "public"
    with tenant_scope(company):
        chunk = Chunk.objects.get(document=doc)
    passage = browser.get(reverse("knowledge:passage", args=[chunk.pk]))
    assert passage.status_code == 200 and "18.7 million" in passage.content.decode()
    fragment = browser.get(reverse("knowledge:passage", args=[chunk.pk]), HTTP_HX_REQUEST="true")
    assert "<html" not in fragment.content.decode() and "kb-focus" in fragment.content.decode()
    response = browser.post(reverse("knowledge:document_reindex", args=[doc.pk]), {"next": "//evil.test/"})
    assert response.status_code == 302 and response["Location"] == reverse("knowledge:documents")
    doc.refresh_from_db()
    assert doc.status == "processing"
    assert browser.post(reverse("knowledge:document_delete", args=[doc.pk])).status_code == 302
    with tenant_scope(company):
        assert not Document.objects.exists()


def test_members_cannot_change_documents_or_see_confidential_ones(member, doc, secret):
    browser = member.browser()
    html = browser.get(reverse("knowledge:documents")).content.decode()
    assert "Q3 financial report" in html and "Incident runbook" not in html and "Delete" not in html
    assert browser.get(reverse("knowledge:document_detail", args=[secret.pk])).status_code == 404
    assert browser.post(reverse("knowledge:document_delete", args=[doc.pk])).status_code == 403
    assert browser.post(reverse("knowledge:document_reindex", args=[doc.pk])).status_code == 403
    assert browser.post(reverse("knowledge:document_edit", args=[doc.pk]), {"title": "x"}).status_code == 403
    with tenant_scope(secret.company):
        chunk = Chunk.objects.get(document=secret)
    assert browser.get(reverse("knowledge:passage", args=[chunk.pk])).status_code == 404


def test_another_companys_pages_are_404(outsider, company, doc):
    browser = outsider.browser()
    with tenant_scope(company):
        chunk = Chunk.objects.get(document=doc)
    assert browser.get(reverse("knowledge:document_detail", args=[doc.pk])).status_code == 404
    assert browser.get(reverse("knowledge:passage", args=[chunk.pk])).status_code == 404
    for name in ("document_edit", "document_reindex", "document_delete"):
        assert browser.post(reverse(f"knowledge:{name}", args=[doc.pk]), {"title": "x"}).status_code == 404
    assert "Q3 financial report" not in browser.get(reverse("knowledge:documents")).content.decode()
    doc.refresh_from_db()
    assert doc.title == "Q3 financial report"


def test_pages_need_a_signed_in_user(client, doc):
    response = client.get(reverse("knowledge:documents"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_ask_page_streams_from_the_api(member, doc):
    html = member.browser().get(reverse("knowledge:ask"), {"q": "What was revenue?"}).content.decode()
    assert 'data-stream-url="/api/v1/query/stream"' in html and "knowledge.js" in html
    assert "What was revenue?" in html
