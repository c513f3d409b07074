from __future__ import annotations

import io

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection as db

from integrations import selectors, services
from integrations.events import company_event, company_event_publish
from integrations.models import Connection


def _raw_secrets(row_id: int) -> str:
    with db.cursor() as cursor:
        cursor.execute("SELECT secrets_encrypted FROM integrations_connection WHERE id = %s", [row_id])
        return cursor.fetchone()[0]


def test_credentials_are_encrypted_at_rest_and_kept_when_left_blank(scope, company, admin) -> None:
    row = services.connection_save(company=company, provider="jira", by_user=admin.user,
                                   config={"site_url": "https://acme.atlassian.net"},
                                   secrets={"api_token": "jira-secret-123"})
    assert "jira-secret-123" not in _raw_secrets(row.pk)
    assert row.secret_fields == ["api_token"]
    row = services.connection_save(company=company, provider="jira", by_user=admin.user,
                                   config={"site_url": "https://acme.atlassian.net", "project_key": "OPS"},
                                   secrets={"api_token": ""})
    assert selectors.connection_secrets(company=company, connection=row) == {"api_token": "jira-secret-123"}
    row = services.connection_save(company=company, provider="jira", by_user=admin.user, config={},
                                   secrets={"api_token": None})
    assert selectors.connection_secrets(company=company, connection=row) == {}


def test_key_rotation_keeps_old_rows_readable_and_re_encrypts(scope, company, admin, settings) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.INTEGRATIONS_ENCRYPTION_KEYS = [old]
    row = services.connection_save(company=company, provider="slack", by_user=admin.user, config={},
                                   secrets={"bot_token": "xoxb-1"})
    settings.INTEGRATIONS_ENCRYPTION_KEYS = [new, old]
    assert selectors.connection_secrets(company=company, connection=row) == {"bot_token": "xoxb-1"}
    out = io.StringIO()
    call_command("integrations_rotate_keys", stdout=out)
    assert "re-encrypted 1 connection" in out.getvalue()
    settings.INTEGRATIONS_ENCRYPTION_KEYS = [new]
    row.refresh_from_db()
    assert selectors.connection_secrets(company=company, connection=row) == {"bot_token": "xoxb-1"}
    settings.INTEGRATIONS_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    assert selectors.connection_secrets(company=company, connection=row) == {}  # unreadable counts as not set


def test_connections_and_their_audit_belong_to_one_company(company, other_company, admin) -> None:
    from accounts.selectors import audit_entries
    from accounts.tenancy import tenant_scope

    with tenant_scope(company):
        services.connection_save(company=company, provider="linear", by_user=admin.user, config={"team": "ENG"},
                                 secrets={"api_key": "lin_api_x"})
        entry = audit_entries(company=company).get()
        assert entry.action == "integration.linear.saved" and "lin_api_x" not in str(entry.detail)
    with tenant_scope(other_company):
        assert selectors.connection_get(company=other_company, provider="linear") is None
        assert not Connection.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_events_reach_receivers_only_after_commit(company) -> None:
    from django.db import transaction

    seen: list[dict] = []

    def receiver(sender, event, **kwargs) -> None:
        seen.append(event)

    company_event.connect(receiver)
    try:
        with transaction.atomic():
            company_event_publish(company_id=company.pk, type="document.ready", data={"document_id": 1})
            assert seen == []
        assert [(e["type"], e["company_id"], e["data"]) for e in seen] == [
            ("document.ready", company.pk, {"document_id": 1})]
        with pytest.raises(ValueError):
            company_event_publish(company_id=company.pk, type="made.up", data={})
    finally:
        company_event.disconnect(receiver)
