"""Celery tasks of the knowledge base: thin wrappers that take ids and call one service."""

from __future__ import annotations

import logging
import random

from celery import shared_task
from django.db import InterfaceError, OperationalError

from accounts.tenancy import TenantTask
from knowledge import selectors, services

logger = logging.getLogger(__name__)

RETRYABLE = (OperationalError, InterfaceError, ConnectionError, TimeoutError)


@shared_task(bind=True, base=TenantTask, name="knowledge.document_ingest", max_retries=4,
             acks_late=True, reject_on_worker_lost=True)
def document_ingest_task(self, *, company_id: int, document_id: int) -> None:
    # acks_late is safe: the ingestion replaces the document's chunks atomically, so a run
    # redelivered after a worker crash simply does the work again.
    company = selectors.company_get(company_id=company_id)
    if company is None:
        return
    try:
        services.document_ingest(company=company, document_id=document_id)
    except RETRYABLE as exc:
        if self.request.retries < self.max_retries:
            countdown = min(300, 2 ** (self.request.retries + 1)) * random.uniform(0.5, 1.5)  # backoff + jitter
            raise self.retry(exc=exc, countdown=countdown)
        logger.exception("ingestion of document %s kept failing", document_id)
        services.document_fail(company=company, document_id=document_id,
                               message="Processing kept failing because a service was unavailable. "
                                       "Try re-indexing the document in a few minutes.")
    except Exception:
        logger.exception("ingestion of document %s failed", document_id)
        services.document_fail(company=company, document_id=document_id,
                               message="Something went wrong while processing this file. Try re-indexing it; "
                                       "if that fails too, the file may be damaged.")
