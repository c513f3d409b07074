"""Every accounts endpoint and page, tried by Globex's admin on Acme's ids: always 404, never a change."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts import services
from accounts.models import ApiToken, Invitation, Membership
from accounts.tenancy import tenant_scope

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme_ids(admin, member):
    invitation = services.invitation_create(company=admin.company, email="new@acme.test", role="member",
                                            invited_by=admin.user).invitation
    with tenant_scope(admin.company):
        return {
            "membership": Membership.objects.get(user=member.user).pk,
            "invitation": invitation.pk,
            "token": ApiToken.objects.filter(user=admin.user).first().pk,
        }


def assert_acme_untouched(admin, member, ids):
    with tenant_scope(admin.company):
        assert Membership.objects.get(pk=ids["membership"]).role == "member"
        assert Invitation.objects.get(pk=ids["invitation"]).revoked_at is None
        assert ApiToken.objects.get(pk=ids["token"]).revoked_at is None
    admin.company.refresh_from_db()
    assert admin.company.name == "Acme"


def test_api_gives_404_for_acme_ids(outsider, admin, member, acme_ids):
    api = outsider.api()
    calls = [
        api.patch(f"/api/v1/members/{acme_ids['membership']}", {"role": "admin"}, content_type="application/json"),
        api.delete(f"/api/v1/members/{acme_ids['membership']}"),
        api.delete(f"/api/v1/invitations/{acme_ids['invitation']}"),
        api.delete(f"/api/v1/tokens/{acme_ids['token']}"),
    ]
    for response in calls:
        assert response.status_code == 404, response.content
        assert response.json() == {"detail": "Not found.", "code": "not_found"}
    assert_acme_untouched(admin, member, acme_ids)


def test_api_lists_show_only_the_callers_company(outsider, acme_ids):
    api = outsider.api()
    assert [m["user"]["email"] for m in api.get("/api/v1/members").json()["items"]] == [outsider.user.email]
    assert api.get("/api/v1/invitations").json()["items"] == []
    assert all(t["id"] != acme_ids["token"] for t in api.get("/api/v1/tokens").json()["items"])
    assert api.get("/api/v1/me").json()["company"]["name"] == "Globex"


def test_api_company_update_changes_only_the_callers_company(outsider, admin, member, acme_ids):
    response = outsider.api().patch("/api/v1/company", {"name": "Globex Corp"}, content_type="application/json")
    assert response.status_code == 200 and response.json()["name"] == "Globex Corp"
    assert_acme_untouched(admin, member, acme_ids)


def test_dashboard_gives_404_for_acme_ids(outsider, admin, member, acme_ids):
    client = outsider.browser()
    posts = [
        (reverse("accounts:member_role", args=[acme_ids["membership"]]), {"role": "admin"}),
        (reverse("accounts:member_remove", args=[acme_ids["membership"]]), {}),
        (reverse("accounts:invitation_revoke", args=[acme_ids["invitation"]]), {}),
        (reverse("accounts:token_revoke", args=[acme_ids["token"]]), {}),
    ]
    for url, data in posts:
        response = client.post(url, data)
        assert response.status_code == 404, url
        assert b"couldn" in response.content  # the product's 404 page
    assert_acme_untouched(admin, member, acme_ids)


def test_dashboard_pages_show_only_the_callers_company(outsider, admin, member, acme_ids):
    client = outsider.browser()
    for name in ["dashboard:home", "accounts:team", "accounts:tokens", "accounts:settings"]:
        html = client.get(reverse(name)).content.decode()
        assert "Globex" in html, name
        assert admin.user.email not in html and member.user.email not in html and "new@acme.test" not in html


def test_switching_to_a_company_you_are_not_in_does_nothing(outsider, admin):
    client = outsider.browser()
    client.post(reverse("accounts:company_switch"), {"company_id": admin.company.pk})
    assert client.get(reverse("accounts:team")).context["principal"].company.name == "Globex"
    assert client.post(reverse("accounts:company_switch"), {"company_id": "junk"}).status_code == 302


def test_switching_between_your_own_companies(admin, other_company):
    services.membership_add(company=other_company, user=admin.user, role="member")
    client = admin.browser()
    assert client.get(reverse("accounts:settings")).context["principal"].company == admin.company
    client.post(reverse("accounts:company_switch"), {"company_id": other_company.pk})
    page = client.get(reverse("accounts:settings"))
    assert page.context["principal"].company == other_company and page.context["principal"].role == "member"
