"""A person's data: the export holds theirs and nothing of another company; erasure leaves no personal field."""

from __future__ import annotations

import io
import json

import pytest
from django.apps import apps
from django.db import models

from accounts import services as account_services
from accounts.lifecycle import ERASED_NAME
from accounts.models import AuditEntry, Role, User
from accounts.tenancy import scopes_disabled, tenant_scope
from ai.models import ChatThread
from knowledge import services as knowledge_services
from knowledge.models import Document
from meetings import lifecycle
from meetings.models import ActionItem, Participant, TranscriptSegment
from tests.lifecycle.factories import rich_meeting

pytestmark = pytest.mark.django_db

BOB_NAME = "Bob Builder"
BOB_EMAIL = "bob@acme.test"


@pytest.fixture
def bob(member, company, media_root):
    """The member, with a name, who spoke in a meeting, owns an action item, chatted and uploaded a document."""
    User.objects.filter(pk=member.user.pk).update(full_name=BOB_NAME)
    member.user.refresh_from_db()
    rich = rich_meeting(company=company, person=member.user, title="Pricing review")
    with tenant_scope(company):
        knowledge_services.document_upload(company=company, uploaded_by=member.user, file=io.BytesIO(b"Price list."),
                                           filename="prices.txt", size=11, title="Prices")
    member.rich = rich
    return member


@pytest.fixture
def bob_at_globex(bob, other_company):
    """Bob also works for Globex, where he spoke in a meeting of theirs."""
    account_services.membership_add(company=other_company, user=bob.user, role=Role.MEMBER)
    return rich_meeting(company=other_company, person=bob.user, title="Globex secret merger")


# --- export ------------------------------------------------------------------------------------------


def test_person_downloads_their_own_data(bob, bob_at_globex, company):
    response = bob.api().get("/api/v1/people/me/export")
    assert response.status_code == 200, response.content
    assert response["Content-Disposition"] == f'attachment; filename="meetpilot-person-{bob.user.pk}.json"'
    data = response.json()
    assert data["user"]["email"] == BOB_EMAIL and data["user"]["full_name"] == BOB_NAME
    assert data["company"]["name"] == "Acme" and data["membership"]["role"] == "member"
    assert [t["prefix"] for t in data["api_tokens"]] == [bob.token[:10]]
    assert "token_hash" not in json.dumps(data["api_tokens"])
    spoken = [s["text"] for s in data["meetings"]["segments"]]
    assert spoken == ["The enterprise plan costs forty euros per seat.", "I will send the revised quote by Friday.",
                      "Our security review takes two weeks."]  # Dana's lines are not his
    assert [a["description"] for a in data["meetings"]["action_items"]] == ["Send the revised quote"]
    assert len(data["meetings"]["questions_asked"]) == 1
    assert sorted(t["title"] for t in data["chat"]) == ["About pricing", "Everything"]
    assert [d["title"] for d in data["documents"]] == ["Prices"]
    text = json.dumps(data)
    assert "Globex" not in text and str(bob_at_globex.meeting.pk) not in [
        str(s["meeting_id"]) for s in data["meetings"]["segments"]]
    with tenant_scope(company):
        entry = AuditEntry.objects.get(action="person.exported")
    assert (entry.actor_id, entry.target_id, entry.detail["self"]) == (bob.user.pk, str(bob.user.pk), True)


def test_admin_exports_a_member_and_others_cannot(admin, manager, bob, outsider, company):
    response = admin.api().get(f"/api/v1/people/{bob.user.pk}/export")
    assert response.status_code == 200 and response.json()["user"]["email"] == BOB_EMAIL
    assert manager.api().get(f"/api/v1/people/{bob.user.pk}/export").status_code == 403
    assert bob.api().get(f"/api/v1/people/{admin.user.pk}/export").status_code == 403
    response = outsider.api().get(f"/api/v1/people/{bob.user.pk}/export")
    assert response.status_code == 404 and "detail" in response.json()
    assert admin.api().get(f"/api/v1/people/{outsider.user.pk}/export").status_code == 404
    own = outsider.api().get("/api/v1/people/me/export").json()  # the outsider's own: nothing of Acme in it
    assert own["company"]["name"] == "Globex" and "Acme" not in json.dumps(own) and BOB_EMAIL not in json.dumps(own)
    assert own["meetings"]["segments"] == [] and own["chat"] == []
    with tenant_scope(company):
        exported = AuditEntry.objects.filter(action="person.exported")
        assert [(e.actor_id, e.target_id) for e in exported] == [(admin.user.pk, str(bob.user.pk))]


def test_export_and_privacy_pages(admin, bob, outsider):
    page = bob.browser().get("/privacy/")
    assert page.status_code == 200 and b"Download my data" in page.content and b"people-table" not in page.content
    download = bob.browser().get("/privacy/export/")
    assert download.status_code == 200 and json.loads(download.content)["user"]["email"] == BOB_EMAIL
    admin_page = admin.browser().get("/privacy/")
    assert BOB_EMAIL.encode() in admin_page.content
    assert admin.browser().get(f"/privacy/people/{bob.user.pk}/export/").status_code == 200
    assert outsider.browser().get(f"/privacy/people/{bob.user.pk}/export/").status_code == 404
    assert bob.browser().get(f"/privacy/people/{admin.user.pk}/export/").status_code == 403


# --- erasure -----------------------------------------------------------------------------------------


def _text_fields(model: type[models.Model]) -> list[str]:
    return [f.name for f in model._meta.concrete_fields
            if isinstance(f, models.CharField | models.TextField | models.JSONField)]


def personal_traces(needles: list[str], *, company=None) -> list[str]:
    """Every text or JSON column, in every table, that still holds one of ``needles`` (``company``'s rows only)."""
    found = []
    with scopes_disabled():
        for model in apps.get_models():
            rows = model._base_manager.all()
            if company is not None:
                if not any(f.name == "company" for f in model._meta.concrete_fields):
                    continue
                rows = rows.filter(company=company)
            for name in _text_fields(model):
                if model is AuditEntry and name == "actor_email":
                    continue  # kept on purpose: the log says who did what (docs/operations.md)
                for needle in needles:
                    if rows.filter(**{f"{name}__icontains": needle}).exists():
                        found.append(f"{model._meta.label}.{name} ~ {needle}")
    return found


def test_admin_erases_a_member(admin, bob, company, monkeypatch, django_capture_on_commit_callbacks):
    assert personal_traces([BOB_NAME, BOB_EMAIL])  # the test can see them before
    queued = []
    monkeypatch.setattr(lifecycle, "task_send", lambda name, **kw: queued.append((name, kw)))
    wrong = admin.api().post(f"/api/v1/people/{bob.user.pk}/erase", {"confirm_email": "someone@acme.test"},
                             content_type="application/json")
    assert wrong.status_code == 422 and wrong.json()["code"] == "confirm_mismatch"

    with django_capture_on_commit_callbacks(execute=True):
        response = admin.api().post(f"/api/v1/people/{bob.user.pk}/erase", {"confirm_email": BOB_EMAIL.upper()},
                                    content_type="application/json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["account"] == "anonymised" and body["counts"]["meetings"]["segments"] == 3
    assert body["counts"]["chat"] == {"threads": 2} and body["counts"]["accounts"]["tokens_revoked"] == 1

    traces = personal_traces([BOB_NAME, BOB_EMAIL])
    assert traces == []
    user = User.objects.get(pk=bob.user.pk)
    assert (user.email, user.full_name, user.is_active, user.has_usable_password()) == (
        f"erased-{user.pk}@erased.invalid", "", False, False)
    assert bob.api().get("/api/v1/me").status_code == 401  # the token was revoked
    meeting = bob.rich.meeting
    with tenant_scope(company):
        labels = list(TranscriptSegment.objects.filter(meeting=meeting).values_list("speaker_label", flat=True))
        assert labels == [ERASED_NAME, "Dana Customer", ERASED_NAME, "Dana Customer", ERASED_NAME]
        participant = Participant.objects.get(pk=bob.rich.person_participant.pk)
        assert (participant.name, participant.email, participant.user_id) == (ERASED_NAME, "", None)
        item = ActionItem.objects.get(description="Send the revised quote")
        assert (item.assignee_name, item.assignee_user_id) == (ERASED_NAME, None)
        assert not ChatThread.objects.filter(user_id=user.pk).exists()
        assert Document.objects.get(title="Prices").uploaded_by_id is None
        entry = AuditEntry.objects.get(action="person.erased")
    assert (entry.actor_id, entry.target_id, entry.detail["account"]) == (admin.user.pk, str(user.pk), "anonymised")
    assert queued == [("intelligence.meeting_index", {"company_id": company.pk, "meeting_id": meeting.pk})]


def test_erasure_in_one_company_keeps_the_other(admin, bob, bob_at_globex, company, other_company, monkeypatch):
    monkeypatch.setattr(lifecycle, "task_send", lambda name, **kw: None)
    response = admin.api().post(f"/api/v1/people/{bob.user.pk}/erase", {"confirm_email": BOB_EMAIL},
                                content_type="application/json")
    assert response.status_code == 200 and response.json()["account"] == "kept: member of another company"
    assert personal_traces([BOB_NAME], company=company) == []
    with tenant_scope(other_company):  # Globex's records of Bob are Globex's business
        assert Participant.objects.get(meeting=bob_at_globex.meeting, user=bob.user).name == BOB_NAME
    assert User.objects.get(pk=bob.user.pk).is_active


def test_who_may_erase(admin, manager, bob, outsider, company):
    body = {"confirm_email": BOB_EMAIL}
    assert manager.api().post(f"/api/v1/people/{bob.user.pk}/erase", body, content_type="application/json"
                              ).status_code == 403
    response = outsider.api().post(f"/api/v1/people/{bob.user.pk}/erase", body, content_type="application/json")
    assert response.status_code == 404 and "detail" in response.json()
    assert outsider.browser().post(f"/privacy/people/{bob.user.pk}/erase/", body).status_code == 404
    assert admin.api().post(f"/api/v1/people/{bob.user.pk}/erase", "not json", content_type="application/json"
                            ).status_code in (400, 422)
    last_admin = admin.api().post("/api/v1/people/me/erase", {"confirm_email": admin.user.email},
                                  content_type="application/json")
    assert last_admin.status_code == 409 and last_admin.json()["code"] == "last_admin"
    assert admin.api().post("/api/v1/people/me/erase", {}, content_type="application/json").status_code == 422
    assert User.objects.get(pk=bob.user.pk).email == BOB_EMAIL


def test_a_person_erases_themselves_from_the_dashboard(bob, company, monkeypatch):
    monkeypatch.setattr(lifecycle, "task_send", lambda name, **kw: None)
    browser = bob.browser()
    assert browser.post("/privacy/erase/", {"confirm_email": "nope@acme.test"}).status_code == 302
    assert User.objects.get(pk=bob.user.pk).is_active  # a wrong confirmation erases nothing
    response = browser.post("/privacy/erase/", {"confirm_email": BOB_EMAIL})
    assert response.status_code == 302 and "/accounts/login" in response["Location"]
    assert not User.objects.get(pk=bob.user.pk).is_active
    assert browser.get("/privacy/").status_code == 302  # signed out
    with tenant_scope(company):
        entry = AuditEntry.objects.get(action="person.erased")
    assert entry.detail["self"] is True
