"""Writes of a company's integration connections (the only writer of ``Connection``)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import Company, User
from accounts.services import audit_record
from integrations.crypto import SecretsUnreadable, secrets_decrypt, secrets_encrypt, secrets_rotate
from integrations.models import Connection, Provider
from meetpilot.errors import Invalid


@transaction.atomic
def connection_save(*, company: Company, provider: str, by_user: User | None, config: dict[str, Any],
                    secrets: dict[str, str] | None = None, enabled: bool = True) -> Connection:
    """Create or update the company's ``provider`` connection.

    ``secrets``: a field given a non-empty value replaces the stored one, an empty string keeps it
    (forms never show saved secrets, so an untouched field comes back empty), ``None`` as a value clears it.
    Any change of config or credentials resets the health to "not tested".
    """
    if provider not in Provider.values:
        raise Invalid(f"unknown provider {provider!r}", code="unknown_provider")
    row = Connection.objects.for_company(company).select_for_update().filter(provider=provider).first()
    if row is None:
        row = Connection(company=company, provider=provider)
    try:
        stored = secrets_decrypt(row.secrets_encrypted)
    except SecretsUnreadable:
        stored = {}  # a key was dropped: the admin enters the credentials again
    for name, value in (secrets or {}).items():
        if value is None:
            stored.pop(name, None)
        elif value != "":
            stored[name] = str(value)
    row.config, row.enabled, row.updated_by = dict(config), enabled, by_user
    row.secrets_encrypted, row.secret_fields = secrets_encrypt(stored), sorted(stored)
    row.health, row.last_error = Connection.Health.UNKNOWN, ""
    row.full_clean()
    row.save()
    audit_record(company=company, actor=by_user, action=f"integration.{provider}.saved", target_type="connection",
                 target_id=row.pk, detail={"config_fields": sorted(config), "secret_fields": row.secret_fields,
                                           "enabled": enabled})
    return row


@transaction.atomic
def connection_delete(*, company: Company, connection: Connection, by_user: User | None) -> None:
    assert connection.company_id == company.pk
    audit_record(company=company, actor=by_user, action=f"integration.{connection.provider}.deleted",
                 target_type="connection", target_id=connection.pk)
    connection.delete()


def connection_health_record(*, company: Company, connection: Connection, ok: bool, error: str = "") -> Connection:
    """The outcome of a test or a sync: the provider's own message is kept for admins (never a secret)."""
    assert connection.company_id == company.pk
    connection.health = Connection.Health.OK if ok else Connection.Health.FAILED
    connection.last_error = "" if ok else error[:2000]
    connection.last_checked_at = timezone.now()
    connection.save(update_fields=["health", "last_error", "last_checked_at", "updated_at"])
    return connection


def connection_secrets_rotate(*, connection: Connection) -> bool:
    """Re-encrypt one row with the newest key; False when no configured key reads it. Cross-company
    maintenance: the caller (``integrations_rotate_keys``) runs it under ``scopes_disabled()``."""
    try:
        token = secrets_rotate(connection.secrets_encrypted)
    except SecretsUnreadable:
        return False
    if token != connection.secrets_encrypted:
        Connection.objects.filter(pk=connection.pk).update(secrets_encrypted=token)
    return True
