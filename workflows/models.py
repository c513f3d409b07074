"""Models of the workflows app: the link between an action item and its ticket in Jira or Linear."""

from __future__ import annotations

from django.db import models

from accounts.tenancy import TenantModel


class TicketLink(TenantModel):
    """One action item's ticket in one provider. Written only by ``workflows.services``.

    ``marker`` is our id on the provider's side, chosen before the first create: the Jira label
    ``meetpilot-<item id>``, the Linear issue id. A retry after a crash between "ticket created" and
    "id saved" looks the marker up instead of creating a second ticket.

    ``synced_local`` / ``synced_remote`` are the four synced fields (title, assignee, due date, done) as we
    last wrote or read them on each side: a change is what differs from them, and an echo of our own
    write differs from nothing, so the two sides never ping-pong.
    """

    class State(models.TextChoices):
        PENDING = "pending", "Queued"
        CREATING = "creating", "Creating"
        SYNCED = "synced", "Synced"
        RETRYING = "retrying", "Retrying"
        FAILED = "failed", "Failed"

    action_item = models.ForeignKey("meetings.ActionItem", on_delete=models.CASCADE, related_name="+")
    provider = models.CharField(max_length=30)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    marker = models.CharField(max_length=64)
    external_id = models.CharField(max_length=100, blank=True)
    external_key = models.CharField(max_length=100, blank=True)
    url = models.URLField(max_length=500, blank=True)
    synced_local = models.JSONField(default=dict, blank=True)
    synced_remote = models.JSONField(default=dict, blank=True)
    # Tries of the current sync (create or update); reset when one succeeds.
    attempts = models.PositiveIntegerField(default=0)
    # The provider's own message from the last failure, for the item and the integration log.
    last_error = models.TextField(blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["provider"]
        constraints = [models.UniqueConstraint(fields=["company", "action_item", "provider"],
                                               name="workflows_ticket_link_unique")]
        indexes = [models.Index(fields=["company", "provider", "external_id"], name="workflows_ticket_external")]

    def __str__(self) -> str:
        return f"{self.provider}:{self.external_key or self.marker}"
