"""Passages always carry the document's current access level, even when it changes mid-ingestion."""

import pytest

from accounts.tenancy import tenant_scope
from knowledge.models import Chunk, Document
from knowledge.services import ChunkInput, chunks_replace
from tests.knowledge.factories import document_ingested

pytestmark = pytest.mark.django_db


def test_access_level_changed_while_embedding_wins_over_the_stale_copy(company):
    document = document_ingested(company=company, title="Board pack", text="Q4 plan: acquire Initech in March.")
    with tenant_scope(company):
        # Someone marks it confidential while a re-index holds the old (team) copy of the row.
        Document.objects.filter(pk=document.pk).update(access_level="confidential")
        stored = chunks_replace(company=company, source_type="document", source_id=document.pk,
                                chunks=[ChunkInput(text="Q4 plan: acquire Initech in March.", position=0,
                                                   document=document)])
        levels = set(Chunk.objects.filter(document=document).values_list("access_level", flat=True))
    assert document.access_level == "team" and stored == 1
    assert levels == {"confidential"}
