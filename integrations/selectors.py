"""Reads of a company's integration connections. The company comes first."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from accounts.models import Company
from integrations.crypto import SecretsUnreadable, secrets_decrypt
from integrations.models import Connection
from integrations.spec import specs
from integrations.ticketing import hook_id, ticket_providers


def connection_list(*, company: Company | int) -> QuerySet[Connection]:
    return Connection.objects.for_company(company)


def connection_get(*, company: Company, provider: str) -> Connection | None:
    return Connection.objects.for_company(company).filter(provider=provider).first()


def connection_secrets(*, company: Company, connection: Connection) -> dict[str, Any]:
    """The decrypted credentials, for the provider client only (never for a response, log or export).
    Unreadable ones (their key was removed) count as not set."""
    assert connection.company_id == company.pk
    try:
        return secrets_decrypt(connection.secrets_encrypted)
    except SecretsUnreadable:
        return {}


def integration_overview(*, company: Company) -> list[dict[str, Any]]:
    """Every registered provider with the company's settings for it: config shown again, secrets as
    names only. What the Integrations page and ``GET /integrations`` show."""
    rows = {row.provider: row for row in connection_list(company=company)}
    overview = []
    for spec in specs():
        row = rows.get(spec.provider)
        overview.append({
            "provider": spec.provider, "label": spec.label, "help": spec.help, "spec": spec,
            "fields": [{"name": f.name, "label": f.label, "secret": f.secret, "required": f.required,
                        "kind": f.kind, "choices": list(f.choices), "help": f.help} for f in spec.fields],
            "connected": row is not None, "connection": row, "enabled": row.enabled if row else False,
            "config": dict(row.config) if row else {}, "secrets_saved": list(row.secret_fields) if row else [],
            "health": row.health if row else Connection.Health.UNKNOWN, "last_error": row.last_error if row else "",
            "last_checked_at": row.last_checked_at if row else None,
            "webhook_url": _webhook_url(company, spec.provider),
        })
    return overview


def _webhook_url(company: Company, provider: str) -> str:
    """Where the provider sends its webhooks for this company (ticket providers only)."""
    if provider not in ticket_providers():
        return ""
    return f"{settings.SITE_URL.rstrip('/')}/api/v1/hooks/{provider}/{hook_id(company.pk, provider)}"
def company_get(*, company_id: int) -> Company | None:
    """For tasks: the company, or None when it is gone (the task then exits quietly)."""
    return Company.objects.filter(pk=company_id).first()
