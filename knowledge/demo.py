"""Demo data for the knowledge base: a few short company documents, searchable at once.

``manage.py seed_demo --with-data`` (run by ``make run`` on every start) sends
``accounts.signals.seed_demo_data``; ``KnowledgeConfig.ready`` connects ``on_seed_demo_data`` to it.
Idempotent: an upload with the same content is a duplicate of the stored document, so a second
run adds nothing. Documents are ingested in the command itself, so suggestions and fact checks
work before any worker has started; the ingestion that the upload also queues replaces the same
chunks again (ingestion is idempotent), which costs a few seconds and nothing else.

Tenancy: a documented bypass (see ``accounts/tenancy.py``). The receiver runs inside the
``seed_demo`` management command, where no request or task has switched a scope on, so the seed
function enters ``tenant_scope(company)`` itself for the one company it was handed.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from accounts.models import Company, User
from accounts.tenancy import tenant_scope
from knowledge import services
from knowledge.models import Document

logger = logging.getLogger(__name__)

DEMO_DIR = Path(__file__).resolve().parent / "demo_data"


@dataclass(frozen=True)
class DemoDocument:
    filename: str
    tags: tuple[str, ...]


DEMO_DOCUMENTS = (
    DemoDocument("Q3 2025 results.md", ("finance", "results")),
    DemoDocument("Pricing and security FAQ.md", ("sales", "pricing", "security")),
    DemoDocument("Customer onboarding guide.md", ("customer success",)),
)


def on_seed_demo_data(sender: object, *, company: Company, admin: User, **kwargs: Any) -> None:
    demo_documents_seed(company=company, admin=admin)


def demo_documents_seed(*, company: Company, admin: User, directory: Path = DEMO_DIR) -> list[Document]:
    """Upload the demo documents once and make sure each is ready; returns them in DEMO_DOCUMENTS order."""
    documents = []
    with tenant_scope(company):
        for demo in DEMO_DOCUMENTS:
            data = (directory / demo.filename).read_bytes()
            result = services.document_upload(company=company, uploaded_by=admin, file=io.BytesIO(data),
                                              filename=demo.filename, size=len(data), tags=list(demo.tags))
            document = result.document
            if document.status != Document.Status.READY:
                try:
                    document = services.document_ingest(company=company, document_id=document.pk) or document
                except Exception:  # the queued ingestion retries it; demo data never stops a start
                    logger.exception("ingesting demo document %s failed", demo.filename)
            documents.append(document)
    return documents
