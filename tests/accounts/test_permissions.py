"""The one role table, checked against the spec, and enforced the same way by the API and the dashboard."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import Membership, Role
from accounts.permissions import ROLE_PERMISSIONS, Perm, can_edit_action_item, has_perm, require, role_has_perm
from accounts.tenancy import tenant_scope

# The spec, written out by hand so a change to the table has to change this too.
SPEC = {
    Role.ADMIN: set(Perm),
    Role.MANAGER: {Perm.VIEW, Perm.ASK, Perm.TOKENS_OWN, Perm.ACTION_ITEM_EDIT_OWN,
                   Perm.MEETING_EDIT, Perm.DOCUMENT_EDIT, Perm.ACTION_ITEM_EDIT},
    Role.MEMBER: {Perm.VIEW, Perm.ASK, Perm.TOKENS_OWN, Perm.ACTION_ITEM_EDIT_OWN},
}


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("perm", list(Perm))
def test_every_role_and_permission_matches_the_spec(role, perm):
    assert role_has_perm(role, perm) is (perm in SPEC[role])


def test_the_table_covers_every_role_and_nothing_else():
    assert set(ROLE_PERMISSIONS) == set(Role)
    assert role_has_perm("owner", Perm.VIEW) is False  # unknown roles get nothing
    assert has_perm(None, Perm.VIEW) is False


def test_require_raises_permission_denied(member):
    from django.core.exceptions import PermissionDenied

    from accounts.auth import Principal

    principal = Principal(user=member.user, company=member.company, role=Role.MEMBER, via="session")
    require(principal, Perm.VIEW)
    with pytest.raises(PermissionDenied):
        require(principal, Perm.MEMBERS_MANAGE)


def test_members_edit_only_their_own_action_items(member, manager):
    from accounts.auth import Principal

    bob = Principal(user=member.user, company=member.company, role=Role.MEMBER, via="session")
    manny = Principal(user=manager.user, company=manager.company, role=Role.MANAGER, via="session")
    assert can_edit_action_item(bob, assignee_user_id=member.user.pk)
    assert not can_edit_action_item(bob, assignee_user_id=manager.user.pk)
    assert not can_edit_action_item(bob, assignee_user_id=None)
    assert can_edit_action_item(manny, assignee_user_id=member.user.pk)
    assert can_edit_action_item(manny, assignee_user_id=None)
    assert not can_edit_action_item(None, assignee_user_id=member.user.pk)


@pytest.mark.django_db
def test_me_lists_the_callers_permissions(member, admin):
    assert set(member.api().get("/api/v1/me").json()["permissions"]) == {str(p) for p in SPEC[Role.MEMBER]}
    assert set(admin.api().get("/api/v1/me").json()["permissions"]) == {str(p) for p in Perm}


# --- enforcement: the API answers 403 JSON, the dashboard a 403 page ---------------------------


def _member_membership_id(company, user) -> int:
    with tenant_scope(company):
        return Membership.objects.get(user=user).pk


@pytest.mark.django_db
@pytest.mark.parametrize("actor_name", ["member", "manager"])
def test_only_admins_manage_people_through_the_api(request, actor_name, admin):
    actor = request.getfixturevalue(actor_name)
    api = actor.api()
    admin_membership = _member_membership_id(admin.company, admin.user)
    calls = [
        api.post("/api/v1/invitations", {"email": "new@acme.test"}, content_type="application/json"),
        api.get("/api/v1/invitations"),
        api.patch(f"/api/v1/members/{admin_membership}", {"role": "member"}, content_type="application/json"),
        api.delete(f"/api/v1/members/{admin_membership}"),
        api.patch("/api/v1/company", {"name": "Hacked"}, content_type="application/json"),
    ]
    for response in calls:
        assert response.status_code == 403, response.content
        assert response["Content-Type"].startswith("application/json")
        assert response.json()["code"] == "permission_denied"
    assert api.get("/api/v1/members").status_code == 200  # reading the team is fine


@pytest.mark.django_db
def test_member_cannot_invite_or_manage_on_the_dashboard(member, admin):
    client = member.browser()
    admin_membership = _member_membership_id(admin.company, admin.user)
    posts = [
        (reverse("accounts:invitation_create"), {"email": "new@acme.test", "role": "member"}),
        (reverse("accounts:member_role", args=[admin_membership]), {"role": "member"}),
        (reverse("accounts:member_remove", args=[admin_membership]), {}),
        (reverse("accounts:settings"), {"name": "Hacked", "email_domain": ""}),
    ]
    for url, data in posts:
        response = client.post(url, data)
        assert response.status_code == 403, url
        assert b"You don" in response.content and response["Content-Type"].startswith("text/html")
    admin.company.refresh_from_db()
    assert admin.company.name == "Acme"
    with tenant_scope(admin.company):
        assert Membership.objects.get(pk=admin_membership).role == Role.ADMIN


@pytest.mark.django_db
def test_team_page_shows_management_controls_to_admins_only(member, admin):
    member_page = member.browser().get(reverse("accounts:team")).content.decode()
    admin_page = admin.browser().get(reverse("accounts:team")).content.decode()
    assert 'id="invite-form"' not in member_page and "Remove" not in member_page
    assert 'id="invite-form"' in admin_page and "Remove" in admin_page
    # the permissions matrix renders the same table for everyone
    for page in (member_page, admin_page):
        assert page.count('data-perm="') == len(Perm)


@pytest.mark.django_db
def test_admin_changes_roles_and_the_last_admin_is_protected(admin, member):
    client = admin.browser()
    bob = _member_membership_id(admin.company, member.user)
    alice = _member_membership_id(admin.company, admin.user)
    client.post(reverse("accounts:member_role", args=[bob]), {"role": "manager"})
    with tenant_scope(admin.company):
        assert Membership.objects.get(pk=bob).role == Role.MANAGER

    response = client.post(reverse("accounts:member_role", args=[alice]), {"role": "member"}, follow=True)
    assert "at least one admin" in response.content.decode()
    api = admin.api().patch(f"/api/v1/members/{alice}", {"role": "member"}, content_type="application/json")
    assert api.status_code == 409 and api.json()["code"] == "last_admin"
    with tenant_scope(admin.company):
        assert Membership.objects.get(pk=alice).role == Role.ADMIN
