import pytest
from django.core.exceptions import ValidationError

from accounts.tenancy import tenant_scope
from ai import services
from ai.models import PromptType
from ai.prompts import DEFAULT_PROMPTS
from ai.selectors import prompt_for

pytestmark = pytest.mark.django_db


def test_defaults_come_from_code_until_a_company_edits(company, scope):
    for prompt_type in PromptType.values:
        resolved = prompt_for(company=company, prompt_type=prompt_type)
        assert resolved.version == 0 and resolved.body == DEFAULT_PROMPTS[prompt_type]
        assert resolved.provider == "" and resolved.model == ""
    with pytest.raises(ValueError):
        prompt_for(company=company, prompt_type="nonsense")


def test_versions_newest_is_active_and_revert_adds_versions(company, admin, scope):
    v1 = services.prompt_save(company=company, prompt_type="summary", body="Summarise in three bullets.",
                              provider="openai", model="gpt-4o-mini", user=admin.user)
    v2 = services.prompt_save(company=company, prompt_type="summary", body="Summarise in one sentence.",
                              user=admin.user)
    assert (v1.version, v2.version) == (1, 2)
    active = prompt_for(company=company, prompt_type="summary")
    assert (active.version, active.body, active.provider) == (2, "Summarise in one sentence.", "")

    back = services.prompt_revert(company=company, prompt_type="summary", to_version=1, user=admin.user)
    assert back.version == 3 and back.note == "Reverted to version 1"
    active = prompt_for(company=company, prompt_type="summary")
    assert (active.body, active.provider, active.model) == ("Summarise in three bullets.", "openai", "gpt-4o-mini")

    default = services.prompt_revert(company=company, prompt_type="summary", user=admin.user)
    assert default.version == 4 and default.is_default
    active = prompt_for(company=company, prompt_type="summary")
    assert active.body == DEFAULT_PROMPTS["summary"]
    assert active.provider == "openai"  # reverting the text keeps the provider choice
    # Other prompt types are untouched.
    assert prompt_for(company=company, prompt_type="decisions").version == 0


def test_invalid_prompts_are_refused(company, scope):
    with pytest.raises(ValidationError):
        services.prompt_save(company=company, prompt_type="summary", body="   ")
    with pytest.raises(ValidationError):
        services.prompt_save(company=company, prompt_type="summary", body="ok", provider="skynet")
    with pytest.raises(ValidationError):
        services.prompt_save(company=company, prompt_type="horoscope", body="ok")


def test_prompts_api_admin_only_and_per_company(admin, member, outsider, company):
    response = admin.api().post("/api/v1/prompts/action_items", {"body": "Only firm commitments.",
                                                                  "provider": "local"}, content_type="application/json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["version"] == 1 and data["provider"] == "local" and len(data["versions"]) == 1
    assert data["versions"][0]["created_by"] == admin.user.email

    listing = admin.api().get("/api/v1/prompts").json()
    assert {p["prompt_type"]: p["version"] for p in listing}["action_items"] == 1

    reverted = admin.api().post("/api/v1/prompts/action_items/revert", {}, content_type="application/json").json()
    assert reverted["version"] == 2 and reverted["body"] == DEFAULT_PROMPTS["action_items"]
    missing = admin.api().post("/api/v1/prompts/action_items/revert", {"version": 99},
                               content_type="application/json")
    assert missing.status_code == 404

    assert member.api().get("/api/v1/prompts").status_code == 403
    assert member.api().post("/api/v1/prompts/summary", {"body": "x"},
                             content_type="application/json").status_code == 403
    # Another company sees its own (default) prompts, never Acme's versions.
    theirs = outsider.api().get("/api/v1/prompts/action_items").json()
    assert theirs["version"] == 0 and theirs["versions"] == []
    assert admin.api().get("/api/v1/prompts/horoscope").status_code == 404
    with tenant_scope(company):
        assert prompt_for(company=company, prompt_type="action_items").version == 2


def test_prompt_pages(admin, member):
    browser = admin.browser()
    page = browser.get("/prompts/")
    assert page.status_code == 200 and b"Follow-up email" in page.content
    assert browser.post("/prompts/summary/", {"body": "Be brief.", "provider": "", "model": ""}).status_code == 302
    edit = browser.get("/prompts/summary/")
    assert b"Be brief." in edit.content and b"v1" in edit.content
    assert browser.post("/prompts/summary/", {"revert": "default"}).status_code == 302
    assert DEFAULT_PROMPTS["summary"].split("\n")[0].encode() in browser.get("/prompts/summary/").content
    assert member.browser().get("/prompts/").status_code == 403
    assert browser.get("/prompts/horoscope/").status_code == 404
