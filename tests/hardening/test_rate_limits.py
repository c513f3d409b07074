"""API rate limits: per token, per company, uploads on their own budget; 429 + Retry-After + JSON body."""

from __future__ import annotations

import time
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from prometheus_client import REGISTRY

from meetpilot import ratelimit
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def limits(settings):
    """Small budgets that refill slowly, in buckets of their own (a fresh key prefix per test)."""
    assert settings.REDIS_URL, "these tests run against Redis (make test provides it)"
    settings.API_RATE_LIMITS_ENABLED = True
    settings.API_RATE_LIMIT_KEY_PREFIX = f"test-ratelimit:{uuid.uuid4().hex}"
    settings.API_RATE_PER_TOKEN, settings.API_BURST_PER_TOKEN = 0.01, 5
    settings.API_RATE_PER_COMPANY, settings.API_BURST_PER_COMPANY = 0.01, 8
    settings.API_UPLOAD_RATE_PER_TOKEN, settings.API_UPLOAD_BURST_PER_TOKEN = 0.01, 2
    settings.API_UPLOAD_RATE_PER_COMPANY, settings.API_UPLOAD_BURST_PER_COMPANY = 0.01, 3
    return settings


def _refused(scope: str) -> float:
    return REGISTRY.get_sample_value("meetpilot_api_rate_limited_total", {"scope": scope}) or 0.0


def _assert_429(response) -> int:
    assert response.status_code == 429, (response.status_code, response.content[:200])
    assert response.json()["code"] == "rate_limited"
    assert "try again" in response.json()["detail"]
    retry_after = int(response["Retry-After"])
    assert retry_after >= 1
    return retry_after


def test_a_token_over_its_budget_gets_429_with_retry_after(limits, admin):
    client = admin.api()
    before = _refused("token")
    assert [client.get("/api/v1/meetings").status_code for _ in range(5)] == [200] * 5
    retry_after = _assert_429(client.get("/api/v1/meetings"))
    assert 90 <= retry_after <= 101  # one unit at 0.01/s: 100 s, rounded up
    assert _refused("token") == before + 1


def test_tokens_of_one_company_share_the_company_budget(limits, admin, member, outsider):
    limits.API_BURST_PER_TOKEN = 100  # only the company budget (8) binds
    before = _refused("company")
    for _ in range(8):
        assert admin.api().get("/api/v1/me").status_code == 200
    _assert_429(member.api().get("/api/v1/me"))  # another token, another user: same company, same budget
    second_admin_token = factories.token_make(company=admin.company, user=admin.user, name="second")
    _assert_429(admin.api().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {second_admin_token}"))
    assert _refused("company") == before + 2
    # Another company is not affected.
    assert [outsider.api().get("/api/v1/me").status_code for _ in range(5)] == [200] * 5


def test_the_dashboard_session_counts_per_user(limits, admin):
    browser = admin.browser()
    assert [browser.get("/api/v1/me").status_code for _ in range(5)] == [200] * 5
    _assert_429(browser.get("/api/v1/me"))
    assert admin.api().get("/api/v1/me").status_code == 200  # the token is a bucket of its own


def _upload(actor, n: int):
    text = f"Quarterly numbers {uuid.uuid4().hex}: revenue grew {n} percent.".encode()
    file = SimpleUploadedFile(f"notes-{n}.txt", text, "text/plain")
    return actor.api().post("/api/v1/documents", data={"files": [file]})


def test_uploads_have_their_own_budget(limits, admin, outsider, tmp_path):
    limits.MEDIA_ROOT = str(tmp_path)
    before = _refused("upload_token")
    assert [_upload(admin, n).status_code for n in range(2)] == [201, 201]
    _assert_429(_upload(admin, 3))
    assert _refused("upload_token") == before + 1
    # The ordinary budget is untouched by uploads, and still serves the same token.
    assert [admin.api().get("/api/v1/documents").status_code for _ in range(5)] == [200] * 5
    _assert_429(admin.api().get("/api/v1/documents"))
    # And exhausting the ordinary budget does not block uploads of another token of the company.
    other = factories.token_make(company=admin.company, user=admin.user, name="uploader")
    file = SimpleUploadedFile("later.txt", b"Numbers again.", "text/plain")
    response = admin.api().post("/api/v1/documents", data={"files": [file]}, HTTP_AUTHORIZATION=f"Bearer {other}")
    assert response.status_code == 201, response.content
    # The company's upload budget (3) is now spent: another token of it waits, another company does not.
    third = factories.token_make(company=admin.company, user=admin.user, name="third")
    file = SimpleUploadedFile("more.txt", b"More numbers.", "text/plain")
    _assert_429(admin.api().post("/api/v1/documents", data={"files": [file]}, HTTP_AUTHORIZATION=f"Bearer {third}"))
    assert _upload(outsider, 1).status_code == 201


def test_a_client_that_waits_retry_after_gets_through(limits, admin):
    limits.API_RATE_PER_TOKEN, limits.API_BURST_PER_TOKEN = 2.0, 2
    client = admin.api()
    assert [client.get("/api/v1/me").status_code for _ in range(2)] == [200, 200]
    retry_after = _assert_429(client.get("/api/v1/me"))
    assert retry_after == 1
    time.sleep(retry_after)
    assert client.get("/api/v1/me").status_code == 200


def test_a_refused_request_spends_nothing_and_unauthenticated_requests_are_not_counted(limits):
    prefix = limits.API_RATE_LIMIT_KEY_PREFIX
    roomy = ratelimit.Bucket("token", f"{prefix}:a", 0.01, 10)
    tight = ratelimit.Bucket("company", f"{prefix}:b", 0.01, 1)
    assert ratelimit.take([roomy, tight]).allowed
    refused = ratelimit.take([roomy, tight])
    assert not refused.allowed and refused.scope == "company" and refused.retry_after > 90
    # the roomy bucket lost only the one unit of the allowed request: nine more fit alone
    assert all(ratelimit.take([roomy]).allowed for _ in range(9))
    assert not ratelimit.take([roomy]).allowed


def test_without_redis_the_buckets_live_in_the_process(limits, admin):
    limits.REDIS_URL = ""
    client = admin.api()
    assert [client.get("/api/v1/me").status_code for _ in range(5)] == [200] * 5
    _assert_429(client.get("/api/v1/me"))
