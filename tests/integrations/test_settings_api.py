"""The Integrations settings API: admins only, saved secrets never shown again, the outsider sees nothing."""

from __future__ import annotations

import json
import logging

import pytest
from django.db import connection as db

from accounts.selectors import audit_entries
from accounts.tenancy import tenant_scope
from integrations.models import Connection
from tests.fakes.jira_server import FakeJira

URL = "/api/v1/integrations"
SECRET = "jira-token-1"


def _put(actor, provider: str, body: dict):
    return actor.api().put(f"{URL}/{provider}", data=json.dumps(body), content_type="application/json")


def _jira_body(jira: FakeJira | None = None, **secrets) -> dict:
    config = jira.config() if jira else {"site_url": "https://acme.atlassian.net", "email": "bot@acme.test",
                                          "project_key": "OPS"}
    return {"config": {**config, "assignee_map": {"bob@acme.test": "acc-bob"}, "auto_sync": ["high"]},
            "secrets": {"api_token": SECRET, **secrets}}


def test_admin_saves_and_the_secret_is_never_returned_nor_stored_plain(admin, company) -> None:
    response = _put(admin, "jira", _jira_body())
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["secrets_saved"] == ["api_token"] and body["config"]["auto_sync"] == ["high"]
    assert SECRET not in response.content.decode()
    listing = admin.api().get(URL)
    assert listing.status_code == 200 and SECRET not in listing.content.decode()
    jira = next(i for i in listing.json() if i["provider"] == "jira")
    assert jira["connected"] and jira["health"] == "unknown"
    assert jira["webhook_url"].endswith(f"/api/v1/hooks/jira/{company.pk}-" + jira["webhook_url"][-32:])
    assert {f["name"] for f in jira["fields"]} >= {"site_url", "api_token", "project_key", "assignee_map"}
    assert {i["provider"] for i in listing.json()} >= {"jira", "linear"}
    with db.cursor() as cursor:
        cursor.execute("SELECT config::text, secrets_encrypted, secret_fields::text FROM integrations_connection")
        assert all(SECRET not in str(value) for value in cursor.fetchone())
    with tenant_scope(company):
        assert all(SECRET not in json.dumps(e.detail) for e in audit_entries(company=company))


def test_blank_secret_keeps_the_saved_one_and_null_removes_it(admin) -> None:
    assert _put(admin, "jira", _jira_body()).status_code == 200
    kept = _put(admin, "jira", {**_jira_body(), "secrets": {"api_token": ""}})
    assert kept.status_code == 200 and kept.json()["secrets_saved"] == ["api_token"]
    removed = _put(admin, "jira", {**_jira_body(), "secrets": {"api_token": None}})
    assert removed.status_code == 400 and removed.json()["detail"] == {"api_token": "required"}


@pytest.mark.parametrize("body, field", [
    ({"config": {"site_url": "not a url", "email": "a@b.test", "project_key": "X"}, "secrets": {"api_token": "t"}},
     "site_url"),
    ({"config": {"site_url": "https://x.test", "email": "a@b.test", "project_key": "X", "auto_sync": ["urgent"]},
      "secrets": {"api_token": "t"}}, "auto_sync"),
    ({"config": {"site_url": "https://x.test", "email": "a@b.test", "project_key": "X", "assignee_map": [1]},
      "secrets": {"api_token": "t"}}, "assignee_map"),
    ({"config": {"site_url": "https://x.test", "email": "a@b.test", "project_key": "X",
                 "api_token": "t"}}, "api_token"),
    ({"config": {"site_url": "https://x.test", "email": "a@b.test", "project_key": "X", "nope": 1},
      "secrets": {"api_token": "t"}}, "nope"),
])
def test_bad_settings_are_a_400_naming_the_field(admin, body, field) -> None:
    response = _put(admin, "jira", body)
    assert response.status_code == 400 and field in response.json()["detail"]
    assert response.json()["code"] == "invalid_settings"


def test_unknown_provider_is_a_404(admin) -> None:
    assert _put(admin, "myspace", {"config": {}}).status_code == 404
    assert admin.api().post(f"{URL}/myspace/test").status_code == 404
    assert admin.api().delete(f"{URL}/linear").status_code == 404  # not connected


def test_test_connection_shows_the_providers_own_message_and_records_health(admin, company, caplog) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, httpx and httpcore included
    with FakeJira() as jira:
        assert _put(admin, "jira", _jira_body(jira)).status_code == 200
        ok = admin.api().post(f"{URL}/jira/test")
        assert ok.status_code == 200 and ok.json() == {
            "ok": True, "health": "ok", "message": "Connected as MeetPilot Bot; project Operations."}
        assert _put(admin, "jira", {**_jira_body(jira), "secrets": {"api_token": "wrong"}}).status_code == 200
        failed = admin.api().post(f"{URL}/jira/test")
    assert failed.status_code == 200 and failed.json()["ok"] is False and failed.json()["health"] == "failed"
    assert "Client must be authenticated to access this resource." in failed.json()["message"]
    assert "wrong" not in failed.content.decode()
    assert caplog.records and SECRET not in caplog.text and "wrong" not in caplog.text
    with tenant_scope(company):
        assert Connection.objects.get(provider="jira").health == "failed"
        assert [e.detail for e in audit_entries(company=company, action_prefix="integration.jira.tested")] == [
            {"ok": False}, {"ok": True}]


def test_delete_removes_the_connection(admin, company) -> None:
    assert _put(admin, "jira", _jira_body()).status_code == 200
    assert admin.api().delete(f"{URL}/jira").status_code == 204
    with tenant_scope(company):
        assert not Connection.objects.exists()


def test_members_and_managers_are_refused(admin, member, manager) -> None:
    assert _put(admin, "jira", _jira_body()).status_code == 200
    for actor in (member, manager):
        assert actor.api().get(URL).status_code == 403
        assert _put(actor, "jira", _jira_body()).status_code == 403
        assert actor.api().post(f"{URL}/jira/test").status_code == 403
        assert actor.api().delete(f"{URL}/jira").status_code == 403


def test_the_outsider_can_neither_see_nor_test_nor_change_acmes_settings(admin, outsider, company) -> None:
    assert _put(admin, "jira", _jira_body()).status_code == 200
    listing = outsider.api().get(URL)
    assert listing.status_code == 200
    assert all(not i["connected"] and i["config"] == {} for i in listing.json())
    assert outsider.api().post(f"{URL}/jira/test").status_code == 404
    assert outsider.api().delete(f"{URL}/jira").status_code == 404
    with tenant_scope(company):
        row = Connection.objects.get(provider="jira")
        assert row.config["project_key"] == "OPS" and row.health == "unknown"


def test_an_answer_that_is_not_jiras_is_a_failed_test_not_a_500(admin) -> None:
    with FakeJira() as jira:
        assert _put(admin, "jira", _jira_body(jira)).status_code == 200
        jira.fail_next(1, status=200, body="<html>a login page</html>")
        odd = admin.api().post(f"{URL}/jira/test")
        jira.fail_next(1, status=301)
        moved = admin.api().post(f"{URL}/jira/test")
    assert odd.status_code == 200 and odd.json()["ok"] is False and "cannot read" in odd.json()["message"]
    assert moved.status_code == 200 and "HTTP 301: the provider redirected" in moved.json()["message"]
