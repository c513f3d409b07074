"""Sign in with Google end to end: allauth's real views and OAuth client against a fake Google on 127.0.0.1."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest
from allauth.socialaccount.models import SocialAccount
from django.test import Client
from django.urls import reverse

from accounts import selectors, services
from accounts.models import Company, Role, User
from accounts.tenancy import scopes_disabled, tenant_scope
from tests.fakes.google_server import SigningKey

pytestmark = pytest.mark.django_db


def google_sign_in(client: Client, google, *, next_url: str = ""):
    """Press "Continue with Google", let the fake Google answer, and come back to allauth's callback."""
    data = {"process": "login", **({"next": next_url} if next_url else {})}
    start = client.post(reverse("google_login"), data)
    assert start.status_code == 302, start.content[:500]
    authorize_url = start["Location"]
    assert authorize_url.startswith(f"{google.url}/o/oauth2/v2/auth?")
    query = parse_qs(urlparse(authorize_url).query)
    assert query["client_id"] == [google.client_id]
    assert set(query["scope"][0].split()) == {"profile", "email"}
    back = urlparse(google.authorize(authorize_url))
    assert back.path == reverse("google_callback")
    return client.get(f"{back.path}?{back.query}")


def membership_of(user: User):
    with scopes_disabled():
        return list(user.memberships.select_related("company"))


def test_new_user_at_a_known_domain_joins_that_company_as_member(company, fake_google):
    fake_google.sign_in_as(email="dana@acme.test", name="Dana Scully")
    client = Client()
    response = google_sign_in(client, fake_google)

    assert response.status_code == 302 and response["Location"] == reverse("dashboard:home")
    user = User.objects.get(email="dana@acme.test")
    [membership] = membership_of(user)
    assert (membership.company, membership.role) == (company, Role.MEMBER)
    # name from the ID token, picture from the userinfo endpoint (FETCH_USERINFO)
    assert user.full_name == "Dana Scully"
    assert user.avatar_url == "https://lh3.googleusercontent.test/a/photo.png"
    assert ("POST", "/token") in fake_google.requests and ("GET", "/oauth2/v2/userinfo") in fake_google.requests
    assert SocialAccount.objects.get(user=user).provider == "google"
    # signed in: the dashboard answers
    assert client.get(reverse("dashboard:home")).status_code == 200


def test_new_user_at_an_unknown_domain_gets_a_company_and_is_its_admin(fake_google):
    fake_google.sign_in_as(email="peter@initech.test", name="Peter Gibbons")
    response = google_sign_in(Client(), fake_google)

    assert response.status_code == 302
    [membership] = membership_of(User.objects.get(email="peter@initech.test"))
    assert membership.role == Role.ADMIN
    assert membership.company.email_domain == "initech.test"
    assert membership.company.name == "Initech"


def test_gmail_user_gets_a_company_of_their_own(company, fake_google):
    Company.objects.filter(pk=company.pk).update(email_domain="gmail.com")  # even a (bad) claim is ignored
    fake_google.sign_in_as(email="lone.wolf@gmail.com", name="Lone Wolf")
    google_sign_in(Client(), fake_google)

    [membership] = membership_of(User.objects.get(email="lone.wolf@gmail.com"))
    assert membership.role == Role.ADMIN
    assert membership.company != company
    assert membership.company.email_domain == ""  # nobody else at gmail.com joins it
    assert membership.company.name == "Lone Wolf's team"


def test_returning_google_user_signs_in_without_a_second_account(fake_google):
    fake_google.sign_in_as(email="peter@initech.test")
    google_sign_in(Client(), fake_google)
    client = Client()
    response = google_sign_in(client, fake_google)

    assert response.status_code == 302
    assert User.objects.filter(email="peter@initech.test").count() == 1
    assert SocialAccount.objects.count() == 1
    assert Company.objects.filter(email_domain="initech.test").count() == 1
    assert len(membership_of(User.objects.get(email="peter@initech.test"))) == 1
    assert client.get(reverse("dashboard:home")).status_code == 200


def test_existing_email_user_signs_in_with_google_and_keeps_their_role(admin, fake_google):
    fake_google.sign_in_as(email=admin.user.email, name="Alice Admin")
    client = Client()
    response = google_sign_in(client, fake_google)

    assert response.status_code == 302
    assert User.objects.filter(email=admin.user.email).count() == 1
    assert SocialAccount.objects.get().user == admin.user  # connected to the existing account
    [membership] = membership_of(admin.user)
    assert (membership.company, membership.role) == (admin.company, Role.ADMIN)
    page = client.get(reverse("accounts:team"))
    assert page.status_code == 200 and page.context["principal"].user == admin.user


def test_invitation_in_the_session_joins_the_inviting_company_with_the_invited_role(admin, fake_google):
    created = services.invitation_create(company=admin.company, email="newbie@gmail.com", role=Role.MANAGER,
                                         invited_by=admin.user)
    invite_url = reverse("accounts:invitation_accept", args=[created.raw_token])
    client = Client()
    page = client.get(invite_url)  # anonymous: the link is remembered in the session
    assert page.status_code == 200 and b"Join Acme" in page.content

    fake_google.sign_in_as(email="newbie@gmail.com")
    response = google_sign_in(client, fake_google, next_url=invite_url)

    user = User.objects.get(email="newbie@gmail.com")
    [membership] = membership_of(user)
    assert (membership.company, membership.role) == (admin.company, Role.MANAGER)  # no company of their own
    with scopes_disabled():
        created.invitation.refresh_from_db()
    assert created.invitation.accepted_by == user
    # back at the (now used) link, they are simply taken to the company's dashboard
    assert response["Location"] == invite_url
    assert client.get(invite_url)["Location"] == reverse("dashboard:home")
    with tenant_scope(admin.company):
        assert selectors.membership_count(company=admin.company) == 2


def test_cancelled_at_google_creates_nothing(fake_google):
    fake_google.identity = None  # the person closes Google's consent screen
    client = Client()
    response = google_sign_in(client, fake_google)
    assert response.status_code == 302 and response["Location"] == reverse("socialaccount_login_cancelled")
    assert b"Sign-in cancelled" in client.get(response["Location"]).content
    assert not User.objects.exists()


def test_a_replayed_authorization_code_is_refused(fake_google):
    fake_google.sign_in_as(email="peter@initech.test")
    first = Client()
    start = first.post(reverse("google_login"), {"process": "login"})
    back = urlparse(fake_google.authorize(start["Location"]))
    code = parse_qs(back.query)["code"][0]
    assert first.get(f"{back.path}?{back.query}").status_code == 302

    # Another browser with a state of its own presents the code again: the token endpoint refuses it.
    second = Client()
    state = parse_qs(urlparse(second.post(reverse("google_login"), {"process": "login"})["Location"]).query)["state"][0]
    replay = second.get(back.path, {"state": state, "code": code})
    assert b"couldn" in replay.content
    assert User.objects.count() == 1 and SocialAccount.objects.count() == 1


def test_a_callback_without_our_state_is_refused(fake_google):
    fake_google.sign_in_as(email="peter@initech.test")
    start = Client().post(reverse("google_login"), {"process": "login"})
    back = urlparse(fake_google.authorize(start["Location"]))
    forged = Client().get(f"{back.path}?{back.query}")  # login CSRF: someone else's callback link
    assert forged.status_code == 401 and b"couldn" in forged.content
    assert not User.objects.exists()


# --- One Tap / ID-token sign-in: the signature is checked against the fake's signing keys -----


def one_tap(client: Client, credential: str):
    client.cookies["g_csrf_token"] = "double-submit"
    return client.post(reverse("google_login_by_token"), {"credential": credential, "g_csrf_token": "double-submit"})


def test_id_token_signed_by_google_signs_in(fake_google):
    identity = fake_google.sign_in_as(email="ron@initech.test", name="Ron Livingston")
    response = one_tap(Client(), fake_google.id_token(identity, with_picture=True))

    assert response.status_code == 302
    assert ("GET", "/oauth2/v1/certs") in fake_google.requests
    [membership] = membership_of(User.objects.get(email="ron@initech.test"))
    assert membership.role == Role.ADMIN


@pytest.mark.parametrize("tamper", ["foreign_key", "wrong_audience", "expired"])
def test_id_token_that_google_did_not_issue_for_us_is_refused(fake_google, tamper):
    identity = fake_google.sign_in_as(email="mallory@initech.test")
    kwargs = {"foreign_key": {"key": SigningKey(kid=fake_google.key.kid)},
              "wrong_audience": {"audience": "someone-else.apps.googleusercontent.com"},
              "expired": {"lifetime": -120}}[tamper]
    response = one_tap(Client(), fake_google.id_token(identity, **kwargs))

    assert response.status_code == 401 and b"couldn" in response.content
    assert not User.objects.filter(email="mallory@initech.test").exists()


def test_google_endpoints_are_404_when_google_is_not_configured(settings):
    settings.SOCIALACCOUNT_PROVIDERS = {"google": {"provider_class": "accounts.google.provider.GoogleProvider"}}
    settings.GOOGLE_CLIENT_ID = ""
    client = Client()
    assert client.post(reverse("google_login")).status_code == 404
    assert client.get(reverse("google_callback"), {"code": "x", "state": "y"}).status_code == 404
    assert b'data-provider="google"' not in client.get(reverse("account_login")).content
