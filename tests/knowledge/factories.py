"""Documents and chunks for tests, made through the real services."""

from __future__ import annotations

import io

from accounts.models import Company
from accounts.tenancy import tenant_scope
from knowledge import services
from knowledge.models import Document


def document_ingested(*, company: Company, title: str, text: str, access_level: str = "team",
                      tags: list[str] | None = None, filename: str | None = None, data: bytes | None = None
                      ) -> Document:
    """Upload ``text`` (or ``data``) as a file and ingest it synchronously."""
    name = filename or f"{title.lower().replace(' ', '-')}.txt"
    payload = data if data is not None else text.encode()
    with tenant_scope(company):
        result = services.document_upload(company=company, uploaded_by=None, file=io.BytesIO(payload),
                                          filename=name, size=len(payload), title=title, access_level=access_level,
                                          tags=tags)
        document = services.document_ingest(company=company, document_id=result.document.pk)
        assert document is not None and document.status == Document.Status.READY, document and document.error
        return document
