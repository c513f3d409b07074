"""The Integrations page in a real browser: an admin connects Jira through the HTMX forms and tests it."""

from __future__ import annotations

import pytest

from tests.fakes.jira_server import FakeJira

pytestmark = pytest.mark.browser


def test_admin_connects_jira_and_tests_the_connection(server, signed_in_page, admin, console_errors):
    page = signed_in_page(admin)
    with FakeJira() as jira:
        page.goto("/")
        page.click("nav.nav >> text=Integrations")
        card = page.locator("#integration-jira")
        card.locator("input[name=site_url]").fill(jira.base_url)
        card.locator("input[name=email]").fill(jira.email)
        card.locator("input[name=api_token]").fill(jira.token)
        card.locator("input[name=project_key]").fill("OPS")
        card.locator("textarea[name=assignee_map]").fill('{"bob@acme.test": "acc-bob"}')
        card.locator("button[type=submit]").click()
        page.locator("#integration-jira [data-saved=api_token]").wait_for()
        assert page.locator("#integration-jira input[name=api_token]").input_value() == ""
        page.locator("#integration-jira").get_by_role("button", name="Test connection").click()
        page.locator("#integration-jira [data-role=test-result]").wait_for()
        assert "Connected as MeetPilot Bot; project Operations." in page.inner_text("#integration-jira")
        assert page.inner_text("#integration-jira [data-role=health]") == "Connected"
    assert jira.token not in page.content()
    page.reload()
    assert "integration.jira.tested" in page.inner_text("#integration-audit")
    assert "/api/v1/hooks/jira/" in page.inner_text("#integration-jira [data-role=webhook-url]")
    assert console_errors == []
