"""The lifecycle endpoints are in the published API schema."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_openapi_lists_the_lifecycle_endpoints(member):
    response = member.browser().get("/api/v1/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in ("/api/v1/people/me/export", "/api/v1/people/{user_id}/export", "/api/v1/people/me/erase",
                 "/api/v1/people/{user_id}/erase", "/api/v1/retention", "/api/v1/audit"):
        assert path in paths, path
