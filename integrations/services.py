"""Writes of a company's integration connections (the only writer of ``Connection``)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import Company, User
from accounts.services import audit_record
from integrations.crypto import SecretsUnreadable, secrets_decrypt, secrets_encrypt, secrets_rotate
from integrations.forms import connection_values
from integrations.models import Connection, Provider
from integrations.spec import ProviderError, spec_for
from meetpilot.errors import Invalid, NotFound


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


# --- settings from the registered provider specs (the Integrations page and API) -----------------


def connection_configure(*, company: Company, provider: str, by_user: User | None, config: dict[str, Any],
                         secrets: dict[str, Any], enabled: bool = True) -> Connection:
    """Save what an admin entered for ``provider``, checked against its ``ProviderSpec``."""
    spec = spec_for(provider)
    if spec is None:
        raise NotFound("No such integration.")
    row = Connection.objects.for_company(company).filter(provider=provider).first()
    clean_config, clean_secrets = connection_values(spec=spec, config=config, secrets=secrets,
                                                    saved_secrets=list(row.secret_fields) if row else [])
    return connection_save(company=company, provider=provider, by_user=by_user, config=clean_config,
                           secrets=clean_secrets, enabled=enabled)


def connection_test(*, company: Company, connection: Connection, by_user: User | None) -> tuple[bool, str]:
    """Run the provider's own check with the stored credentials; (ok, the provider's message). Records the
    health and an audit entry; never raises for a provider failure."""
    assert connection.company_id == company.pk
    spec = spec_for(connection.provider)
    if spec is None:
        raise NotFound("No such integration.")
    try:
        secrets = secrets_decrypt(connection.secrets_encrypted)
    except SecretsUnreadable:
        secrets = {}
    try:
        ok, message = True, spec.test(dict(connection.config), secrets)
    except ProviderError as exc:
        ok, message = False, str(exc)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:  # a 2xx we cannot read
        ok, message = False, f"{spec.label} answered in a way MeetPilot cannot read ({type(exc).__name__}: {exc})"
    connection_health_record(company=company, connection=connection, ok=ok, error=message)
    audit_record(company=company, actor=by_user, action=f"integration.{connection.provider}.tested",
                 target_type="connection", target_id=connection.pk, detail={"ok": ok})
    return ok, message
