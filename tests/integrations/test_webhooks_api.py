"""Webhook endpoints over the API and the dashboard: admins only, secrets shown once and stored encrypted,
internal addresses refused, and nothing of Acme's visible or triggerable by Globex."""

from __future__ import annotations

import json

import pytest
from django import db
from django.urls import reverse

from accounts.tenancy import tenant_scope
from integrations.models import WebhookDelivery, WebhookEndpoint
from integrations.netguard import UnsafeTarget, url_check
from integrations.webhooks import services
from integrations.webhooks.signing import signature_header, signature_verify

pytestmark = pytest.mark.django_db

PUBLIC_URL = "https://93.184.215.14/hooks"  # a public literal address: no DNS needed


def _create(actor, url=PUBLIC_URL, events=("report.ready",)):
    return actor.api().post("/api/v1/webhooks", data={"url": url, "events": list(events)},
                            content_type="application/json")


def _delivery(company, endpoint_id) -> WebhookDelivery:
    with tenant_scope(company):
        endpoint = WebhookEndpoint.objects.get(pk=endpoint_id)
        return WebhookDelivery.objects.create(company=company, endpoint=endpoint, event_id="evt-1",
                                              event_type="report.ready", payload={"id": "evt-1"},
                                              status=WebhookDelivery.Status.FAILED, attempts=3)


def test_admin_creates_an_endpoint_and_sees_the_secret_once_stored_encrypted(admin):
    response = _create(admin, events=["report.ready", "meeting.ended"])
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["secret"].startswith("whsec_") and len(body["secret"]) > 40
    assert body["events"] == ["meeting.ended", "report.ready"]
    with db.connection.cursor() as cursor:
        cursor.execute("SELECT secret_encrypted FROM integrations_webhookendpoint WHERE id = %s", [body["id"]])
        raw = cursor.fetchone()[0]
    assert body["secret"] not in raw and raw.startswith("gAAAA")  # a Fernet token
    listed = admin.api().get("/api/v1/webhooks").json()
    assert [e["id"] for e in listed["items"]] == [body["id"]]
    assert "secret" not in listed["items"][0] and listed["items"][0]["secret_hint"] == body["secret"][:10]


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8000/hook", "http://localhost/hook", "http://10.1.2.3/x", "http://169.254.169.254/latest",
    "http://[::1]/x", "http://192.168.0.10/x", "ftp://93.184.215.14/x", "https://user:pw@93.184.215.14/x",
    "not a url", "http://0.0.0.0/",
])
def test_internal_or_malformed_addresses_are_refused(admin, url):
    response = _create(admin, url=url)
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "unsafe_url"


def test_the_server_itself_is_refused_by_name(settings):
    settings.SITE_URL = "https://meetpilot.example.com"
    with pytest.raises(UnsafeTarget):
        url_check("https://meetpilot.example.com/api/v1/me", resolve=False)


def test_private_addresses_are_allowed_when_the_setting_says_so(admin, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    assert _create(admin, url="http://127.0.0.1:9/hook").status_code == 201


def test_unknown_or_missing_events_are_a_400(admin):
    assert _create(admin, events=["meeting.exploded"]).json()["code"] == "invalid_events"
    assert _create(admin, events=[]).status_code in (400, 422)


def test_members_and_managers_may_not_manage_webhooks(admin, manager, member):
    endpoint_id = _create(admin).json()["id"]
    for actor in (manager, member):
        assert actor.api().get("/api/v1/webhooks").status_code == 403
        assert _create(actor).status_code == 403
        assert actor.api().get(f"/api/v1/webhooks/{endpoint_id}/deliveries").status_code == 403
        assert actor.browser().get(reverse("webhooks:list")).status_code == 403


def test_the_outsider_can_neither_see_nor_trigger_anything_of_acme(admin, outsider, company):
    endpoint_id = _create(admin).json()["id"]
    delivery = _delivery(company, endpoint_id)
    client = outsider.api()
    assert client.get("/api/v1/webhooks").json()["items"] == []
    assert client.get(f"/api/v1/webhooks/{endpoint_id}/deliveries").status_code == 404
    assert client.post(f"/api/v1/webhooks/deliveries/{delivery.pk}/redeliver").status_code == 404
    assert client.delete(f"/api/v1/webhooks/{endpoint_id}").status_code == 404
    browser = outsider.browser()
    assert browser.get(reverse("webhooks:detail", args=[endpoint_id])).status_code == 404
    assert browser.post(reverse("webhooks:redeliver", args=[delivery.pk])).status_code == 404
    assert browser.post(reverse("webhooks:delete", args=[endpoint_id])).status_code == 404
    assert "93.184.215.14" not in browser.get(reverse("webhooks:list")).content.decode()
    with tenant_scope(company):
        assert WebhookEndpoint.objects.count() == 1 and WebhookDelivery.objects.count() == 1


def test_delivery_log_and_redeliver_create_a_new_series(admin, company):
    endpoint_id = _create(admin).json()["id"]
    delivery = _delivery(company, endpoint_id)
    log = admin.api().get(f"/api/v1/webhooks/{endpoint_id}/deliveries").json()
    assert [(d["id"], d["status"], d["attempts"]) for d in log["items"]] == [(delivery.pk, "failed", 3)]
    response = admin.api().post(f"/api/v1/webhooks/deliveries/{delivery.pk}/redeliver")
    assert response.status_code == 202
    again = response.json()
    assert again["redelivery_of_id"] == delivery.pk and again["event_id"] == "evt-1"
    assert again["status"] == "pending" and again["attempts"] == 0
    assert admin.api().get(f"/api/v1/webhooks/{endpoint_id}/deliveries").json()["count"] == 2
    page = admin.browser().get(reverse("webhooks:detail", args=[endpoint_id])).content.decode()
    assert page.count("Redeliver") == 2 and "evt-1" in page and "Failed" in page
    assert admin.api().delete(f"/api/v1/webhooks/{endpoint_id}").status_code == 204
    assert admin.api().get(f"/api/v1/webhooks/{endpoint_id}/deliveries").status_code == 404


def test_the_dashboard_page_shows_the_secret_once(admin):
    browser = admin.browser()
    response = browser.post(reverse("webhooks:list"), {"url": PUBLIC_URL, "events": ["document.ready"]})
    assert response.status_code == 302
    page = browser.get(reverse("webhooks:list")).content.decode()
    assert "whsec_" in page and "shown only this once" in page
    again = browser.get(reverse("webhooks:list")).content.decode()
    assert "shown only this once" not in again and PUBLIC_URL in again
    refused = browser.post(reverse("webhooks:list"), {"url": "http://10.0.0.1/x", "events": ["document.ready"]})
    assert refused.status_code == 200 and "private or internal" in refused.content.decode()


def test_signature_verifies_and_rejects_tampering_and_old_timestamps():
    body = json.dumps({"id": "evt"}).encode()
    header = signature_header("whsec_x", body, timestamp=1_700_000_000)
    assert signature_verify("whsec_x", body, header, now=1_700_000_100)
    assert not signature_verify("whsec_x", body + b" ", header, now=1_700_000_100)
    assert not signature_verify("whsec_y", body, header, now=1_700_000_100)
    assert not signature_verify("whsec_x", body, header, now=1_700_001_000)
    assert not signature_verify("whsec_x", body, "garbage")


def test_retry_schedule_is_exponential_capped_jittered_and_spans_the_window(settings):
    import random

    rng = random.Random(7)
    delays = [services.retry_delay(n, rng=rng) for n in range(1, 30)]
    assert 15 <= delays[0] <= 30 and 30 <= delays[1] <= 60
    assert all(d <= settings.WEBHOOK_RETRY_MAX_SECONDS for d in delays)
    assert len({round(d, 3) for d in delays}) == len(delays)  # jittered: no two the same
    elapsed, attempts = 0.0, 1
    for delay in delays:
        if elapsed + delay > settings.WEBHOOK_RETRY_WINDOW_SECONDS:
            break
        elapsed, attempts = elapsed + delay, attempts + 1
    assert 10 <= attempts <= 25 and elapsed > 20 * 3600


def test_key_rotation_re_encrypts_webhook_secrets(scope, company, admin, settings):
    import io

    from cryptography.fernet import Fernet
    from django.core.management import call_command

    from integrations.webhooks import selectors

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.INTEGRATIONS_ENCRYPTION_KEYS = [old]
    created = services.webhook_endpoint_create(company=company, by_user=admin.user, url=PUBLIC_URL,
                                               events=["meeting.ended"])
    settings.INTEGRATIONS_ENCRYPTION_KEYS = [new, old]
    out = io.StringIO()
    call_command("integrations_rotate_keys", stdout=out)
    assert "re-encrypted 1 webhook secret" in out.getvalue()
    settings.INTEGRATIONS_ENCRYPTION_KEYS = [new]
    endpoint = selectors.webhook_endpoint_get(company=company, endpoint_id=created.endpoint.pk)
    assert selectors.webhook_secret(company=company, endpoint=endpoint) == created.secret
