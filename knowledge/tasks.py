"""Celery tasks of the knowledge base: thin wrappers that take ids and call one service."""

from __future__ import annotations

import logging

from celery import shared_task

from accounts.tenancy import TenantTask
from knowledge import selectors, services
from meetpilot.tasks import TRANSIENT_ERRORS, final_attempt, retry_policy

logger = logging.getLogger(__name__)


# Idempotent: the ingestion replaces the document's chunks atomically, so a run redelivered after a
# worker crash simply does the work again.
@shared_task(bind=True, base=TenantTask, name="knowledge.document_ingest", **retry_policy())
def document_ingest_task(self, *, company_id: int, document_id: int) -> None:
    company = selectors.company_get(company_id=company_id)
    if company is None:
        return
    try:
        services.document_ingest(company=company, document_id=document_id)
    except TRANSIENT_ERRORS:
        if not final_attempt(self):
            raise  # retried with backoff and jitter
        logger.exception("ingestion of document %s kept failing", document_id)
        services.document_fail(company=company, document_id=document_id,
                               message="Processing kept failing because a service was unavailable. "
                                       "Try re-indexing the document in a few minutes.")
    except Exception:
        logger.exception("ingestion of document %s failed", document_id)
        services.document_fail(company=company, document_id=document_id,
                               message="Something went wrong while processing this file. Try re-indexing it; "
                                       "if that fails too, the file may be damaged.")
