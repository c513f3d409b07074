"""Reads of a company's integration connections. The company comes first."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from accounts.models import Company
from integrations.crypto import SecretsUnreadable, secrets_decrypt
from integrations.models import Connection


def connection_list(*, company: Company) -> QuerySet[Connection]:
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


def company_get(*, company_id: int) -> Company | None:
    """For tasks: the company, or None when it is gone (the task then exits quietly)."""
    return Company.objects.filter(pk=company_id).first()
