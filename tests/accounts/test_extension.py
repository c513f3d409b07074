"""The extension as the dashboard hands it out, connecting it, and the API it relies on."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from accounts.models import ApiToken
from accounts.tenancy import tenant_scope
from meetings.models import Meeting
from tests.meetings.factories import meeting_make


def test_download_is_built_for_this_server(admin, settings) -> None:
    settings.SITE_URL = "https://meet.example.com/"
    response = admin.browser().get(reverse("accounts:extension_download"))
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = set(archive.namelist())
    assert {"meetpilot-extension/manifest.json", "meetpilot-extension/background.js",
            "meetpilot-extension/platforms/meet.js", "meetpilot-extension/sidepanel.html"} <= names
    assert not any("/test/" in name for name in names)
    config = archive.read("meetpilot-extension/config.js").decode()
    assert '"https://meet.example.com"' in config
    manifest = json.loads(archive.read("meetpilot-extension/manifest.json"))
    assert "https://meet.example.com/*" in manifest["host_permissions"]
    connect = next(s for s in manifest["content_scripts"] if s["js"] == ["connect.js"])
    assert "https://meet.example.com/extension/connect/*" in connect["matches"]
    assert manifest["manifest_version"] == 3 and manifest["key"]


def test_the_repository_extension_id_is_allowed_by_default(settings) -> None:
    assert f"chrome-extension://{settings.REPOSITORY_EXTENSION_ID}" in settings.WS_ALLOWED_ORIGINS


def test_connect_creates_a_token_named_after_the_browser_and_hands_it_to_the_page(member) -> None:
    client = member.browser()
    page = client.get(reverse("accounts:extension_connect_page") + "?browser=Chrome%20on%20Linux")
    assert page.status_code == 200 and b"Connect Chrome on Linux" in page.content
    response = client.post(reverse("accounts:extension_connect"), {"browser": "Chrome on Linux"})
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    with tenant_scope(member.company):
        token = ApiToken.objects.get(user=member.user, name="Chrome extension: Chrome on Linux")
    page_html = response.content.decode()
    handoff = page_html.split('id="extension-handoff" type="application/json">')[1].split("</script>")[0]
    data = json.loads(handoff)
    assert data["source"] == "meetpilot-connect" and data["tokenId"] == token.pk
    assert data["token"].startswith(token.prefix)
    # the handed-over token works for the API the extension uses
    me = member.__class__(user=member.user, company=member.company, token=data["token"]).api().get("/api/v1/me")
    assert me.status_code == 200


def test_connect_needs_a_signed_in_person(client) -> None:
    response = client.post(reverse("accounts:extension_connect"), {"browser": "Chrome"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert client.get(reverse("accounts:extension_download")).status_code == 302


def test_disconnect_revokes_the_token_it_is_made_with(admin) -> None:
    api = admin.api()
    response = api.delete("/api/v1/tokens/current")
    assert response.status_code == 200 and response.json()["revoked_at"]
    assert api.get("/api/v1/me").status_code == 401
    session = admin.browser().delete("/api/v1/tokens/current")
    assert session.status_code in (400, 403) and session.json()["code"] in ("not_a_token", "csrf_failed", "forbidden")


def test_join_finds_the_scheduled_meeting_at_the_link_or_creates_one(admin, member, outsider, company) -> None:
    with tenant_scope(company):
        scheduled = meeting_make(company=company, title="Weekly sync", meeting_url="https://meet.google.com/abc-defg-hij",
                                 scheduled_start=timezone.now() + timedelta(minutes=5))
        meeting_make(company=company, title="Last week", status=Meeting.Status.ENDED,
                     meeting_url="https://meet.google.com/abc-defg-hij")
    body = {"meeting_url": "https://MEET.google.com/abc-defg-hij/?authuser=0", "title": "From the page",
            "platform": "google_meet"}
    joined = admin.api().post("/api/v1/meetings/join", body, content_type="application/json")
    assert joined.status_code == 200 and joined.json()["id"] == scheduled.pk
    # a member joins the same meeting read-only
    as_member = member.api().post("/api/v1/meetings/join", body, content_type="application/json")
    assert as_member.json()["id"] == scheduled.pk
    other = {**body, "meeting_url": "https://meet.google.com/xyz-abcd-efg"}
    assert member.api().post("/api/v1/meetings/join", other, content_type="application/json").status_code == 404
    created = admin.api().post("/api/v1/meetings/join", other, content_type="application/json")
    assert created.status_code == 201 and created.json()["title"] == "From the page"
    assert created.json()["meeting_url"] == "https://meet.google.com/xyz-abcd-efg"
    again = admin.api().post("/api/v1/meetings/join", other, content_type="application/json")
    assert again.status_code == 200 and again.json()["id"] == created.json()["id"]
    # another company at the same link gets its own meeting, never Acme's
    theirs = outsider.api().post("/api/v1/meetings/join", body, content_type="application/json")
    assert theirs.status_code == 201 and theirs.json()["id"] != scheduled.pk


def test_join_refuses_what_is_not_a_meeting_link(admin) -> None:
    response = admin.api().post("/api/v1/meetings/join", {"meeting_url": "javascript:alert(1)", "title": "x"},
                                content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "invalid_meeting_url"
