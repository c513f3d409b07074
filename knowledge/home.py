"""The knowledge base on the Overview page (registered from ``KnowledgeConfig.ready``)."""

from __future__ import annotations

from django.template.defaultfilters import pluralize
from django.urls import reverse

from accounts.auth import Principal
from accounts.dashboard import Stat, checklist_check, home_stat
from knowledge import selectors
from knowledge.retrieval import access_levels_for


@home_stat(order=30)
def documents_ready(principal: Principal) -> Stat:
    """Documents answers can come from, counting only those the caller may see."""
    stats = selectors.knowledge_stats(company=principal.company, access_levels=access_levels_for(principal))
    pending = stats["count"] - stats["ready"] - stats["failed"]
    hints = [f"{pending} processing"] if pending else []
    if stats["failed"]:
        hints.append(f"{stats['failed']} failed")
    return Stat(label="Documents ready", value=stats["ready"], url=reverse("knowledge:documents"),
                hint=" · ".join(hints) or f"{stats['chunks']} passage{pluralize(stats['chunks'])}")


@checklist_check("documents")
def has_documents(principal: Principal) -> bool:
    return selectors.knowledge_stats(company=principal.company)["count"] > 0
