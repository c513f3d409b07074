"""A company's connections to the services its work goes to (Jira, Linear, Slack, calendar, email)."""

from __future__ import annotations

from django.db import models

from accounts.tenancy import TenantModel


class Provider(models.TextChoices):
    JIRA = "jira", "Jira Cloud"
    LINEAR = "linear", "Linear"
    SLACK = "slack", "Slack"
    GOOGLE_CALENDAR = "google_calendar", "Google Calendar"
    EMAIL = "email", "Email"


class Connection(TenantModel):
    """One provider's settings for one company. Written only by ``integrations.services``.

    ``config`` holds what may be shown again (site URL, project key, channel, mappings); ``secrets_encrypted``
    holds the credentials as one encrypted JSON object (``integrations.crypto``): never decrypted outside
    ``integrations.selectors.connection_secrets``, never shown, logged or exported.
    """

    class Health(models.TextChoices):
        UNKNOWN = "unknown", "Not tested"
        OK = "ok", "Connected"
        FAILED = "failed", "Failing"

    provider = models.CharField(max_length=30, choices=Provider.choices)
    enabled = models.BooleanField(default=True)
    config = models.JSONField(default=dict, blank=True)
    secrets_encrypted = models.TextField(blank=True)
    # Names of the secret fields that are set (shown as "saved" in the settings page, values never).
    secret_fields = models.JSONField(default=list, blank=True)
    health = models.CharField(max_length=10, choices=Health.choices, default=Health.UNKNOWN)
    # The provider's own message from the last failed test or sync, for admins.
    last_error = models.TextField(blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    updated_by = models.ForeignKey("accounts.User", on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["provider"]
        constraints = [models.UniqueConstraint(fields=["company", "provider"], name="integration_connection_unique")]

    def __str__(self) -> str:
        return f"{self.provider} @ {self.company_id}"
