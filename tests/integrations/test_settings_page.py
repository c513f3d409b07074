"""The Integrations page: generic forms from the provider specs, secrets shown only as "saved"."""

from __future__ import annotations

from accounts.tenancy import tenant_scope
from integrations import selectors
from integrations.models import Connection
from tests.fakes.jira_server import FakeJira

PAGE = "/integrations/"


def _form(jira: FakeJira, token: str = "jira-token-1") -> dict:
    return {**jira.config(), "api_token": token, "assignee_map": '{"bob@acme.test": "acc-bob"}',
            "auto_sync": "high, medium", "enabled": "on"}


def test_admin_sees_every_registered_provider_and_the_nav_link(admin) -> None:
    response = admin.browser().get(PAGE)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="integration-jira"' in html and 'id="integration-linear"' in html
    assert 'href="/integrations/"' in html and "Integration log" in html
    assert f"/api/v1/hooks/linear/{admin.company.pk}-" in html


def test_save_test_and_audit_on_the_page_never_show_the_secret(admin, company) -> None:
    client = admin.browser()
    with FakeJira() as jira:
        saved = client.post(f"{PAGE}jira/", _form(jira), HTTP_HX_REQUEST="true")
        assert saved.status_code == 200 and 'data-saved="api_token"' in saved.content.decode()
        tested = client.post(f"{PAGE}jira/test/", HTTP_HX_REQUEST="true")
        assert "Connected as MeetPilot Bot" in tested.content.decode()
        client.post(f"{PAGE}jira/", {**_form(jira, token="bad-token")}, HTTP_HX_REQUEST="true")
        failed = client.post(f"{PAGE}jira/test/", HTTP_HX_REQUEST="true")
        assert "Client must be authenticated" in failed.content.decode()
    page = client.get(PAGE).content.decode()
    for html in (saved.content.decode(), tested.content.decode(), failed.content.decode(), page):
        assert "jira-token-1" not in html and "bad-token" not in html
    assert 'data-action="integration.jira.tested"' in page and 'data-action="integration.jira.saved"' in page
    with tenant_scope(company):
        row = selectors.connection_get(company=company, provider="jira")
        assert row.config["auto_sync"] == ["high", "medium"]
        assert row.config["assignee_map"] == {"bob@acme.test": "acc-bob"}
        assert selectors.connection_secrets(company=company, connection=row) == {"api_token": "bad-token"}


def test_a_bad_form_shows_the_field_errors_and_saves_nothing(admin, company) -> None:
    response = admin.browser().post(f"{PAGE}jira/", {"site_url": "nope", "assignee_map": "{"},
                                    HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and 'data-role="errors"' in html and "site_url" in html and "api_token" in html
    with tenant_scope(company):
        assert not Connection.objects.exists()


def test_members_and_managers_get_403_and_no_nav_link(member, manager) -> None:
    for actor in (member, manager):
        client = actor.browser()
        assert client.get(PAGE).status_code == 403
        assert client.post(f"{PAGE}jira/", {"site_url": "https://x.test"}).status_code == 403
        assert 'href="/integrations/"' not in client.get("/").content.decode()


def test_the_outsider_sees_none_of_acmes_settings_and_cannot_change_them(admin, outsider, company) -> None:
    with FakeJira() as jira:
        admin.browser().post(f"{PAGE}jira/", _form(jira), HTTP_HX_REQUEST="true")
        client = outsider.browser()
        page = client.get(PAGE).content.decode()
        assert jira.base_url not in page and 'data-saved="api_token"' not in page
        assert client.post(f"{PAGE}jira/test/", HTTP_HX_REQUEST="true").status_code == 404
        assert client.post(f"{PAGE}jira/delete/", HTTP_HX_REQUEST="true").status_code == 404
    with tenant_scope(company):
        assert Connection.objects.get(provider="jira").health == "unknown"
