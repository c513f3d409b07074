"""API tokens: created through the API and the dashboard, shown once, stored hashed, used, revoked."""

from __future__ import annotations

import pytest
from django.db import connection
from django.urls import reverse

from accounts import services
from accounts.auth import token_hash
from accounts.models import ApiToken, Membership
from accounts.tenancy import scopes_disabled, tenant_scope

pytestmark = pytest.mark.django_db


def raw_token_appears_in_database(raw: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM accounts_apitoken WHERE token_hash = %s OR prefix = %s OR name = %s",
                       [raw, raw, raw])
        return cursor.fetchone()[0] > 0


def test_token_created_through_the_api_is_shown_once_and_stored_hashed(admin):
    response = admin.api().post("/api/v1/tokens", {"name": "Laptop"}, content_type="application/json")
    assert response.status_code == 201
    body = response.json()
    raw = body["token"]
    assert raw.startswith("mp_") and len(raw) > 40
    assert body["prefix"] == raw[:10] and body["revoked_at"] is None

    with scopes_disabled():
        stored = ApiToken.objects.get(pk=body["id"])
    assert stored.token_hash == token_hash(raw) and not raw_token_appears_in_database(raw)
    # never again: the list and the detail show the prefix only
    listed = admin.api().get("/api/v1/tokens").json()["items"]
    assert {t["id"] for t in listed} >= {body["id"]}
    assert all("token" not in t for t in listed) and raw not in str(listed)


def test_using_a_token_records_last_used_and_revoking_it_gives_401(admin):
    raw = admin.api().post("/api/v1/tokens", {"name": "Script"}, content_type="application/json").json()["token"]
    client = type(admin)(user=admin.user, company=admin.company, token=raw).api()
    with scopes_disabled():
        assert ApiToken.objects.get(token_hash=token_hash(raw)).last_used_at is None

    me = client.get("/api/v1/me")
    assert me.status_code == 200 and me.json()["via"] == "token" and me.json()["user"]["email"] == admin.user.email
    with scopes_disabled():
        token = ApiToken.objects.get(token_hash=token_hash(raw))
    assert token.last_used_at is not None

    revoked = admin.api().delete(f"/api/v1/tokens/{token.pk}")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    after = client.get("/api/v1/me")
    assert after.status_code == 401 and after.json()["code"] == "not_authenticated"


def test_unknown_or_malformed_tokens_are_401_never_a_fallback_to_the_session(admin):
    for header in ["Bearer mp_not-a-real-token", "Bearer ", "Basic YWxpY2U6cGFzcw==", "Bearer " + "x" * 500]:
        client = admin.browser()  # has a valid session cookie too
        response = client.get("/api/v1/me", HTTP_AUTHORIZATION=header)
        assert response.status_code == 401, header


def test_token_of_company_b_used_on_company_a_ids_is_404(admin, outsider):
    acme_token_id = admin.api().post("/api/v1/tokens", {"name": "x"}, content_type="application/json").json()["id"]
    with tenant_scope(admin.company):
        acme_membership = Membership.objects.get(user=admin.user)
    invitation = services.invitation_create(company=admin.company, email="x@acme.test", role="member",
                                            invited_by=admin.user).invitation

    api = outsider.api()
    assert api.delete(f"/api/v1/tokens/{acme_token_id}").status_code == 404
    assert api.patch(f"/api/v1/members/{acme_membership.pk}", {"role": "member"},
                     content_type="application/json").status_code == 404
    assert api.delete(f"/api/v1/members/{acme_membership.pk}").status_code == 404
    assert api.delete(f"/api/v1/invitations/{invitation.pk}").status_code == 404
    # and Globex's token sees Globex only
    assert api.get("/api/v1/company").json()["name"] == "Globex"
    emails = {m["user"]["email"] for m in api.get("/api/v1/members").json()["items"]}
    assert emails == {outsider.user.email}


def test_a_colleagues_token_id_is_404_too(admin, member):
    their_token = member.api().post("/api/v1/tokens", {"name": "bob's"}, content_type="application/json").json()
    assert admin.api().delete(f"/api/v1/tokens/{their_token['id']}").status_code == 404
    assert member.api().get("/api/v1/me").status_code == 200


def test_removing_a_member_kills_their_tokens(admin, member):
    with tenant_scope(admin.company):
        membership = Membership.objects.get(user=member.user)
    assert member.api().get("/api/v1/me").status_code == 200
    assert admin.api().delete(f"/api/v1/members/{membership.pk}").status_code == 204
    assert member.api().get("/api/v1/me").status_code == 401
    with scopes_disabled():
        assert not ApiToken.objects.filter(user=member.user, revoked_at__isnull=True).exists()


def test_token_from_a_company_the_user_left_is_dead_even_if_not_revoked(admin, member):
    # Belt and braces: the membership check in token auth, independent of the revocation on removal.
    with tenant_scope(admin.company):
        Membership.objects.filter(user=member.user).delete()
    assert member.api().get("/api/v1/me").status_code == 401


def test_dashboard_creates_a_token_shows_it_once_and_revokes_it(member):
    client = member.browser()
    response = client.post(reverse("accounts:token_create"), {"name": "Chrome on my laptop"})
    assert response.status_code == 302 and response["Location"] == reverse("accounts:tokens")

    page = client.get(reverse("accounts:tokens"))
    raw = page.context["new_token"]
    html = page.content.decode()
    assert raw and raw in html and 'data-copy="#token-value"' in html
    assert f'"meetpilot.token.{raw}"' in html and '"meetpilot.v1"' in html  # the extension's subprotocols
    assert "/ws/meetings/" in html and "ws://" in html
    assert not raw_token_appears_in_database(raw)

    again = client.get(reverse("accounts:tokens"))
    assert again.context["new_token"] is None and raw not in again.content.decode()
    assert "Chrome on my laptop" in again.content.decode() and raw[:10] in again.content.decode()

    with scopes_disabled():
        token = ApiToken.objects.get(token_hash=token_hash(raw))
    client.post(reverse("accounts:token_revoke", args=[token.pk]))
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert "Revoked" in client.get(reverse("accounts:tokens")).content.decode()
    assert type(member)(user=member.user, company=member.company, token=raw).api().get("/api/v1/me").status_code == 401


def test_token_pages_need_a_session(client):
    response = client.get(reverse("accounts:tokens"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))
    assert client.get("/api/v1/tokens").status_code == 401
