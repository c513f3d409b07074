"""The dashboard's own pages: Overview, Team, API tokens, Settings, and the error pages."""

from __future__ import annotations

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse

from accounts import dashboard, services
from accounts.dashboard import Stat
from accounts.models import Role
from tests import factories

pytestmark = pytest.mark.django_db


def test_overview_shows_real_counts_and_the_getting_started_checklist(admin, member):
    response = admin.browser().get(reverse("dashboard:home"))
    assert response.status_code == 200
    stats = {s.label: s.value for s in response.context["stats"]}
    assert stats["Team members"] == 2  # alice and bob
    assert stats["Your API tokens"] == 1  # the fixture's token
    steps = {s.key: s.done for s in response.context["steps"]}
    assert steps == {"extension": True, "documents": False, "team": True}
    html = response.content.decode()
    assert "Getting started" in html and 'data-step="documents"' in html and "2 of 3 done" in html


def test_overview_for_a_brand_new_company_has_nothing_done(other_company):
    client = Client()
    client.force_login(factories.admin_of(other_company), backend="django.contrib.auth.backends.ModelBackend")
    response = client.get(reverse("dashboard:home"))
    assert {s.key: s.done for s in response.context["steps"]} == {"extension": False, "documents": False,
                                                                   "team": False}
    assert "0 of 3 done" in response.content.decode()


def test_members_do_not_get_the_invite_step(member):
    response = member.browser().get(reverse("dashboard:home"))
    assert [s.key for s in response.context["steps"]] == ["extension", "documents"]


def test_other_apps_add_stats_and_tick_steps(admin, monkeypatch):
    # Only this app's own providers, so the order below does not depend on which other apps registered theirs.
    monkeypatch.setattr(dashboard, "_stat_providers",
                        [entry for entry in dashboard._stat_providers if entry[1].__module__ == dashboard.__name__])
    monkeypatch.setattr(dashboard, "_done_checks", dict(dashboard._done_checks))

    @dashboard.home_stat(order=1)
    def meetings(principal):
        return Stat(label="Meetings this week", value=7, url="/meetings/")

    @dashboard.home_stat(order=2)
    def broken(principal):
        raise RuntimeError("a bad provider must not take the page down")

    @dashboard.checklist_check("documents")
    def documents(principal):
        return principal.company == admin.company

    response = admin.browser().get(reverse("dashboard:home"))
    assert response.status_code == 200
    assert [s.label for s in response.context["stats"]][:2] == ["Meetings this week", "Team members"]
    assert {s.key: s.done for s in response.context["steps"]}["documents"] is True
    assert "Meetings this week" in response.content.decode()


def test_settings_are_editable_by_admins(admin):
    client = admin.browser()
    response = client.post(reverse("accounts:settings"), {"name": "Acme Corp", "email_domain": "@ACME.test "})
    assert response["Location"] == reverse("accounts:settings")
    admin.company.refresh_from_db()
    assert (admin.company.name, admin.company.email_domain) == ("Acme Corp", "acme.test")


def test_settings_refuse_public_and_taken_domains(admin, other_company):
    client = admin.browser()
    page = client.post(reverse("accounts:settings"), {"name": "Acme", "email_domain": "gmail.com"})
    assert page.status_code == 200 and "public mail domain" in page.content.decode()
    page = client.post(reverse("accounts:settings"), {"name": "Acme", "email_domain": "globex.test"})
    assert page.status_code == 200 and "already uses this domain" in page.content.decode()
    api = admin.api().patch("/api/v1/company", {"name": "Acme", "email_domain": "gmail.com"},
                            content_type="application/json")
    assert api.status_code == 400 and api.json()["code"] == "invalid"
    admin.company.refresh_from_db()
    assert admin.company.email_domain == "acme.test"


def test_claiming_a_new_domain_needs_a_verified_address_at_it(admin):
    from allauth.account.models import EmailAddress

    client = admin.browser()
    page = client.post(reverse("accounts:settings"), {"name": "Acme", "email_domain": "acme-corp.test"})
    assert page.status_code == 200 and "verified address at acme-corp.test" in page.content.decode()
    admin.user.email = "alice@acme-corp.test"
    admin.user.save(update_fields=["email"])
    EmailAddress.objects.create(user=admin.user, email=admin.user.email, verified=True, primary=True)
    response = client.post(reverse("accounts:settings"), {"name": "Acme", "email_domain": "acme-corp.test"})
    assert response.status_code == 302
    admin.company.refresh_from_db()
    assert admin.company.email_domain == "acme-corp.test"


@pytest.mark.parametrize("role", [Role.MEMBER, Role.MANAGER])
def test_settings_are_read_only_for_everyone_else(company, role):
    user = factories.member_make(company=company, role=role)
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    html = client.get(reverse("accounts:settings")).content.decode()
    assert "Read only" in html and 'name="email_domain"' not in html and "acme.test" in html


def test_team_page_lists_members_and_pending_invitations(admin, member):
    services.invitation_create(company=admin.company, email="pending@acme.test", role=Role.MANAGER,
                               invited_by=admin.user)
    html = admin.browser().get(reverse("accounts:team")).content.decode()
    assert member.user.email in html and admin.user.email in html
    assert "pending@acme.test" in html and "Revoke" in html
    assert "data-membership=" in html and 'name="role"' in html


def test_team_page_empty_invitations_state(admin):
    html = admin.browser().get(reverse("accounts:team")).content.decode()
    assert "No pending invitations" in html


def test_tokens_page_empty_state(other_company):
    client = Client()
    client.force_login(factories.admin_of(other_company), backend="django.contrib.auth.backends.ModelBackend")
    html = client.get(reverse("accounts:tokens")).content.decode()
    assert "No tokens yet" in html and 'id="create-token"' in html


def test_sidebar_marks_the_current_page_and_shows_who_is_signed_in(admin):
    html = admin.browser().get(reverse("accounts:team")).content.decode()
    assert f'href="{reverse("accounts:team")}" class="active"' in html
    assert "Alice Admin" in html and "Acme" in html


def test_unknown_page_is_the_product_404_for_everyone(admin):
    anonymous = Client().get("/no-such-page/")
    assert anonymous.status_code == 404 and 'id="error-page"' in anonymous.content.decode()
    signed_in = admin.browser().get("/no-such-page/")
    assert signed_in.status_code == 404
    assert 'class="sidebar"' in signed_in.content.decode() and "couldn" in signed_in.content.decode()


def test_500_page_renders_without_the_database(admin):
    from meetpilot.urls import handler500

    request = RequestFactory().get("/boom/")
    request.principal = None
    response = handler500(request)
    assert response.status_code == 500 and b"Something went wrong" in response.content
    api = handler500(RequestFactory().get("/api/v1/boom"))
    assert api.status_code == 500 and api["Content-Type"] == "application/json"
