from __future__ import annotations

import pytest

from accounts import selectors, services
from accounts.models import AuditEntry
from accounts.tenancy import TenantScopeError, tenant_scope


def test_audit_entries_belong_to_their_company(company, other_company, admin) -> None:
    with tenant_scope(company):
        services.audit_record(company=company, actor=admin.user, action="meeting.deleted", target_type="meeting",
                              target_id=7, detail={"segments": 3})
        entries = list(selectors.audit_entries(company=company))
        assert [(e.action, e.target_id, e.actor_email) for e in entries] == [
            ("meeting.deleted", "7", admin.user.email)]
    with tenant_scope(other_company):
        assert list(selectors.audit_entries(company=other_company)) == []


def test_audit_log_fails_closed_without_a_scope(company) -> None:
    with pytest.raises(TenantScopeError):
        list(AuditEntry.objects.all())


def test_audit_entries_narrow_by_action_prefix(company) -> None:
    with tenant_scope(company):
        services.audit_record(company=company, action="integration.jira.updated")
        services.audit_record(company=company, action="export.person")
        assert [e.action for e in selectors.audit_entries(company=company, action_prefix="integration.")] == [
            "integration.jira.updated"]
