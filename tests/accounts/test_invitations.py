"""Invitations: created by admins, accepted through the link (signed in, or by signing up), used once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts import services
from accounts.auth import token_hash
from accounts.models import Invitation, Membership, Role, User
from accounts.tenancy import scopes_disabled, tenant_scope
from tests import factories

pytestmark = pytest.mark.django_db


def invite(admin, email="new@example.test", role=Role.MEMBER):
    created = services.invitation_create(company=admin.company, email=email, role=role, invited_by=admin.user)
    return created, reverse("accounts:invitation_accept", args=[created.raw_token])


def memberships(user):
    with scopes_disabled():
        return {(m.company_id, m.role) for m in Membership.objects.filter(user=user)}


def test_api_creates_an_invitation_with_a_link_shown_once(admin):
    response = admin.api().post("/api/v1/invitations", {"email": "Dana@Example.test", "role": "manager"},
                                content_type="application/json")
    assert response.status_code == 201
    body = response.json()
    assert body["email"] == "dana@example.test" and body["role"] == "manager"
    raw = body["invite_url"].rstrip("/").rsplit("/", 1)[-1]
    with scopes_disabled():
        stored = Invitation.objects.get(pk=body["id"])
    assert stored.token_hash == token_hash(raw)
    listed = admin.api().get("/api/v1/invitations").json()["items"]
    assert [i["id"] for i in listed] == [body["id"]] and "invite_url" not in listed[0]
    bad = admin.api().post("/api/v1/invitations", {"email": "not-an-email"}, content_type="application/json")
    assert bad.status_code == 422 and bad.json()["code"] == "validation_error"


def test_dashboard_creates_an_invitation_and_shows_the_link_once(admin):
    client = admin.browser()
    response = client.post(reverse("accounts:invitation_create"), {"email": "dana@example.test", "role": "manager"})
    assert response["Location"] == reverse("accounts:team")
    page = client.get(reverse("accounts:team"))
    url = page.context["created_invite_url"]
    html = page.content.decode()
    assert url.startswith("http") and "/invite/" in url and url in html and 'data-copy="#invite-link"' in html
    assert "dana@example.test" in html  # listed as pending
    assert client.get(reverse("accounts:team")).context["created_invite_url"] is None
    bad = client.post(reverse("accounts:invitation_create"), {"email": "nope", "role": "member"}, follow=True)
    assert "valid email" in bad.content.decode()


def test_signed_in_user_accepts_with_the_join_button(admin, other_company):
    created, url = invite(admin, role=Role.MANAGER)
    charlie = factories.admin_of(other_company)
    client = Client()
    client.force_login(charlie, backend="django.contrib.auth.backends.ModelBackend")

    page = client.get(url)
    assert page.status_code == 200 and "Join Acme" in page.content.decode()
    assert (admin.company.pk, Role.MANAGER) not in memberships(charlie)  # a GET changes nothing

    response = client.post(url)
    assert response["Location"] == reverse("dashboard:home")
    assert (admin.company.pk, Role.MANAGER) in memberships(charlie)
    assert (other_company.pk, Role.ADMIN) in memberships(charlie)  # still in their own company
    # the joined company is the active one now
    assert client.get(reverse("accounts:team")).context["principal"].company == admin.company


def test_anonymous_visitor_signs_up_through_the_link_and_joins(admin):
    created, url = invite(admin, email="dana@gmail.com", role=Role.MANAGER)
    client = Client()
    page = client.get(url).content.decode()
    assert 'id="invitation-signup"' in page and "email=dana%40gmail.com" in page
    assert page.count(f"next={url}") == 2  # sign-up and sign-in both come back to the invitation

    response = client.post(reverse("account_signup") + f"?next={url}", {
        "email": "dana@gmail.com", "password1": "a-long-passphrase-9", "password2": "a-long-passphrase-9",
        "full_name": "Dana",
    })
    assert response.status_code == 302 and response["Location"] == url
    dana = User.objects.get(email="dana@gmail.com")
    assert memberships(dana) == {(admin.company.pk, Role.MANAGER)}  # no company of her own
    assert client.get(url)["Location"] == reverse("dashboard:home")  # the used link brings her home


def test_existing_user_signs_in_through_the_link_then_joins(admin, other_company):
    created, url = invite(admin)
    client = Client()
    client.get(url)
    response = client.post(reverse("account_login") + f"?next={url}",
                           {"login": "charlie@globex.test", "password": "correct-horse-9"})
    assert response["Location"] == url
    assert client.get(url).status_code == 200  # the Join page
    client.post(url)
    charlie = User.objects.get(email="charlie@globex.test")
    assert (admin.company.pk, Role.MEMBER) in memberships(charlie)


def test_a_used_link_gives_a_clear_message(admin):
    created, url = invite(admin)
    first = factories.user_make()
    services.invitation_accept(raw_token=created.raw_token, user=first)

    response = Client().get(url)
    assert response.status_code == 410
    assert "already been used" in response.content.decode()
    other = Client()
    other.force_login(factories.user_make(), backend="django.contrib.auth.backends.ModelBackend")
    assert other.post(url).status_code == 410
    with pytest.raises(services.InvitationError):
        services.invitation_accept(raw_token=created.raw_token, user=factories.user_make())


def test_an_expired_link_gives_a_clear_message(admin):
    created, url = invite(admin)
    with scopes_disabled():
        Invitation.objects.filter(pk=created.invitation.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    response = Client().get(url)
    assert response.status_code == 410 and "expired" in response.content.decode()


def test_a_revoked_link_gives_a_clear_message(admin):
    created, url = invite(admin)
    response = admin.browser().post(reverse("accounts:invitation_revoke", args=[created.invitation.pk]))
    assert response.status_code == 302
    page = Client().get(url)
    assert page.status_code == 410 and "withdrawn" in page.content.decode()
    with tenant_scope(admin.company):
        assert not Invitation.objects.filter(revoked_at__isnull=True).exists()


def test_a_made_up_link_gives_a_clear_message():
    response = Client().get(reverse("accounts:invitation_accept", args=["not-a-real-token"]))
    assert response.status_code == 410 and "not valid" in response.content.decode()


def test_api_revokes_an_invitation(admin):
    created, url = invite(admin)
    assert admin.api().delete(f"/api/v1/invitations/{created.invitation.pk}").status_code == 204
    assert Client().get(url).status_code == 410
    assert admin.api().get("/api/v1/invitations").json()["items"] == []


def test_sign_up_with_a_revoked_invitation_in_the_session_still_gets_an_account(admin):
    created, url = invite(admin)
    client = Client()
    client.get(url)
    services.invitation_revoke(company=admin.company, invitation=created.invitation)
    client.post(reverse("account_signup"), {"email": "dana@initech.test", "password1": "a-long-passphrase-9",
                                            "password2": "a-long-passphrase-9"})
    dana = User.objects.get(email="dana@initech.test")
    [(company_id, role)] = memberships(dana)
    assert company_id != admin.company.pk and role == Role.ADMIN
