"""The audit log: admins read who did what, page by page; nobody else, and never another company's."""

from __future__ import annotations

import pytest

from accounts import services
from accounts.tenancy import tenant_scope

pytestmark = pytest.mark.django_db


@pytest.fixture
def logged(company, other_company, admin, member, outsider):
    with tenant_scope(company):
        for n in range(3):
            services.audit_record(company=company, actor=admin.user, action="meeting.deleted", target_type="meeting",
                                  target_id=100 + n, detail={"reason": "request"})
        services.audit_record(company=company, actor=member.user, action="person.exported", target_type="user",
                              target_id=member.user.pk, detail={"self": True})
        services.audit_record(company=company, action="retention.applied", detail={"counts": {}})
    with tenant_scope(other_company):
        services.audit_record(company=other_company, actor=outsider.user, action="meeting.deleted",
                              target_type="meeting", target_id=999)


def test_admin_reads_the_log_page_by_page(admin, member, logged):
    body = admin.api().get("/api/v1/audit?page_size=2").json()
    assert body["count"] == 5 and body["page_size"] == 2 and len(body["items"]) == 2
    newest, exported = body["items"]
    assert (newest["action"], newest["actor_id"], newest["actor_email"]) == ("retention.applied", None, "")
    assert (exported["action"], exported["actor_email"]) == ("person.exported", member.user.email)
    second = admin.api().get("/api/v1/audit?page_size=2&page=2").json()["items"]
    assert [(e["action"], e["actor_email"], e["target_id"]) for e in second] == [
        ("meeting.deleted", admin.user.email, "102"), ("meeting.deleted", admin.user.email, "101")]
    deleted = admin.api().get("/api/v1/audit?action=meeting.").json()
    assert deleted["count"] == 3 and {e["target_id"] for e in deleted["items"]} == {"100", "101", "102"}


def test_only_admins_and_only_their_company(manager, member, outsider, logged):
    assert manager.api().get("/api/v1/audit").status_code == 403
    assert member.api().get("/api/v1/audit").status_code == 403
    seen = outsider.api().get("/api/v1/audit").json()
    assert [e["target_id"] for e in seen["items"]] == ["999"]
    assert outsider.api().get("/api/v1/audit?page=1000001").status_code == 422


def test_audit_page(admin, member, outsider, logged):
    page = admin.browser().get("/audit/")
    assert page.status_code == 200 and page.content.count(b'data-action="meeting.deleted"') == 3
    assert b"person.exported" in page.content and b"MeetPilot (scheduled)" in page.content
    filtered = admin.browser().get("/audit/?action=person.")
    assert filtered.content.count(b"data-action=") == 1
    assert member.browser().get("/audit/").status_code == 403
    assert b"data-action=\"person.exported\"" not in outsider.browser().get("/audit/").content


def test_the_log_records_who_did_what_end_to_end(admin, member, company, media_root):
    from tests.lifecycle.factories import rich_meeting

    rich = rich_meeting(company=company, person=member.user)
    assert admin.api().delete(f"/api/v1/meetings/{rich.meeting.pk}").status_code == 204
    assert member.api().get("/api/v1/people/me/export").status_code == 200
    assert admin.api().put("/api/v1/retention", {"transcripts": 30}, content_type="application/json"
                           ).status_code == 200
    items = admin.api().get("/api/v1/audit").json()["items"]
    assert [(e["action"], e["actor_email"]) for e in items] == [
        ("retention.updated", admin.user.email), ("person.exported", member.user.email),
        ("meeting.deleted", admin.user.email)]
