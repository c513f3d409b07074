"""Email sign-up and sign-in through allauth's real views and the product's templates."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import Membership, Role, User
from accounts.tenancy import scopes_disabled, tenant_scope

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-passphrase-9"


def sign_up(client: Client, email: str, **extra) -> object:
    return client.post(reverse("account_signup"), {"email": email, "password1": PASSWORD, "password2": PASSWORD,
                                                   **extra})


def test_sign_up_with_email_creates_a_company_and_makes_you_its_admin():
    client = Client()
    response = sign_up(client, "peter@initech.test", full_name="Peter Gibbons", company_name="Initech LLC")
    assert response.status_code == 302 and response["Location"] == reverse("dashboard:home")

    peter = User.objects.get(email="peter@initech.test")
    assert peter.full_name == "Peter Gibbons" and peter.check_password(PASSWORD)
    with scopes_disabled():
        membership = Membership.objects.select_related("company").get(user=peter)
    assert membership.role == Role.ADMIN
    # An unverified address proves nothing about the domain: the company claims none.
    assert (membership.company.name, membership.company.email_domain) == ("Initech LLC", "")
    home = client.get(reverse("dashboard:home"))
    assert home.status_code == 200 and "Initech LLC" in home.content.decode()


def test_unverified_sign_up_at_a_company_domain_does_not_get_into_that_company(company):
    # Anyone can type dana@acme.test into a form: only a verified address (Google) or an invitation joins Acme.
    sign_up(Client(), "dana@acme.test", company_name="Dana Inc")
    with scopes_disabled():
        membership = Membership.objects.select_related("company").get(user__email="dana@acme.test")
    assert membership.company_id != company.pk
    assert (membership.company.name, membership.company.email_domain, membership.role) == ("Dana Inc", "", Role.ADMIN)


def test_a_removed_member_cannot_walk_back_in_through_the_welcome_page(admin, member):
    from accounts import selectors, services

    with scopes_disabled():
        membership = Membership.objects.get(company=admin.company, user=member.user)
    with tenant_scope(admin.company):  # as in the team page's request
        services.membership_remove(company=admin.company, membership=membership)
    client = member.browser()
    assert client.get(reverse("dashboard:home"))["Location"] == reverse("accounts:no_company")
    client.post(reverse("accounts:no_company"), {"name": "Bob's team"})
    companies = selectors.companies_of_user(user=member.user)
    assert [c.name for c in companies] == ["Bob's team"] and admin.company not in companies


def test_sign_up_errors_are_shown_on_the_form(admin):
    response = sign_up(Client(), admin.user.email)
    assert response.status_code == 200
    assert "already registered" in response.content.decode()
    short = Client().post(reverse("account_signup"), {"email": "x@initech.test", "password1": "short",
                                                      "password2": "short"})
    assert "too short" in short.content.decode()


def test_sign_in_with_the_right_password(admin):
    client = Client()
    response = client.post(reverse("account_login"), {"login": admin.user.email, "password": "correct-horse-9"})
    assert response.status_code == 302 and response["Location"] == reverse("dashboard:home")
    assert client.get(reverse("dashboard:home")).status_code == 200


def test_wrong_password_shows_the_form_error(admin):
    response = Client().post(reverse("account_login"), {"login": admin.user.email, "password": "wrong-password"})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'class="form-error"' in html and "not correct" in html
    assert 'class="auth-card"' in html and 'name="login"' in html


def test_sign_in_page_looks_like_the_product_and_offers_google_only_when_configured(settings):
    settings.GOOGLE_CLIENT_ID = ""
    settings.MICROSOFT_CLIENT_ID = ""
    html = Client().get(reverse("account_login")).content.decode()
    assert 'class="auth-card"' in html and "/static/css/app.css" in html
    assert 'data-provider="google"' not in html and 'data-provider="microsoft"' not in html

    settings.GOOGLE_CLIENT_ID = "client-id.apps.googleusercontent.com"
    html = Client().get(reverse("account_login")).content.decode()
    assert 'data-provider="google"' in html and reverse("google_login") in html
    assert 'data-provider="microsoft"' not in html

    settings.MICROSOFT_CLIENT_ID = "ms-client"
    html = Client().get(reverse("account_signup")).content.decode()
    assert 'data-provider="google"' in html and 'data-provider="microsoft"' in html


@pytest.mark.parametrize("name", ["account_login", "account_signup", "account_reset_password",
                                  "account_reset_password_done"])
def test_public_account_pages_render_in_the_product_layout(name):
    response = Client().get(reverse(name))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="auth-card' in html and 'class="auth-page"' in html


def test_password_reset_sends_a_link_that_sets_a_new_password(admin, mailoutbox):
    client = Client()
    response = client.post(reverse("account_reset_password"), {"email": admin.user.email})
    assert response["Location"] == reverse("account_reset_password_done")
    [mail] = mailoutbox
    link = next(line for line in mail.body.splitlines() if "/password/reset/key/" in line).strip()
    path = link.split("testserver", 1)[-1]
    page = client.get(path, follow=True)
    assert "Choose a new password" in page.content.decode()
    done = client.post(page.redirect_chain[-1][0] if page.redirect_chain else path,
                       {"password1": "brand-new-pass-42", "password2": "brand-new-pass-42"})
    assert done.status_code == 302
    admin.user.refresh_from_db()
    assert admin.user.check_password("brand-new-pass-42")
    bad = Client().get(path, follow=True)
    assert "no longer works" in bad.content.decode()


def test_sign_out_asks_then_signs_out(admin):
    client = admin.browser()
    page = client.get(reverse("account_logout"))
    assert page.status_code == 200 and "Sign out" in page.content.decode()
    response = client.post(reverse("account_logout"))
    assert response["Location"] == reverse("account_login")
    assert client.get(reverse("dashboard:home"))["Location"].startswith(reverse("account_login"))


def test_a_user_without_a_company_is_sent_to_create_one():
    lonely = User.objects.create_user(email="lonely@initech.test", password=PASSWORD)
    client = Client()
    client.force_login(lonely, backend="django.contrib.auth.backends.ModelBackend")
    response = client.get(reverse("accounts:team"))
    assert response["Location"] == reverse("accounts:no_company")
    page = client.get(reverse("accounts:no_company"))
    assert page.status_code == 200 and "not in a company" in page.content.decode()
    client.post(reverse("accounts:no_company"), {"name": "Lonely Co"})
    with scopes_disabled():
        membership = Membership.objects.select_related("company").get(user=lonely)
    assert (membership.company.name, membership.role) == ("Lonely Co", Role.ADMIN)
    assert client.get(reverse("accounts:no_company"))["Location"] == reverse("dashboard:home")


@pytest.mark.parametrize("name", ["account_email", "socialaccount_connections", "account_change_password",
                                  "account_logout"])
def test_signed_in_account_pages_render_inside_the_dashboard(admin, name):
    response = admin.browser().get(reverse(name))
    assert response.status_code == 200, name
    html = response.content.decode()
    assert 'class="sidebar"' in html and "Menu:" not in html  # allauth's bare layout is never shown


@pytest.mark.parametrize("name", ["account_inactive", "socialaccount_login_cancelled", "socialaccount_login_error",
                                  "account_email_verification_sent"])
def test_other_allauth_pages_render_in_the_sign_in_layout(name):
    response = Client().get(reverse(name))
    assert response.status_code in (200, 401), name  # the login error page answers 401
    html = response.content.decode()
    assert 'class="auth-card' in html and "Menu:" not in html
