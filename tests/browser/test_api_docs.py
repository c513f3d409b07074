"""The API documentation renders with the network cut off: Swagger UI comes from our static files."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

pytestmark = pytest.mark.browser


def test_api_docs_render_offline(server, page, console_errors):
    refused: list[str] = []

    def only_local(route):
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    page.route("**/*", only_local)
    page.goto("/api/docs")  # redirects to /api/v1/docs
    assert urlsplit(page.url).path == "/api/v1/docs"
    # The schema of ~80 operations is built on the first request: give it time on a busy machine.
    try:
        page.locator(".swagger-ui .info .title", has_text="MeetPilot API").wait_for(timeout=30_000)
    except Exception:
        print(page.content()[:3000], console_errors, refused)
        raise
    create = page.locator(".opblock-post", has=page.locator(".opblock-summary-path", has_text="/api/v1/meetings"))
    create.first.wait_for()
    assert page.locator(".opblock").count() >= 70  # every operation of the schema is listed
    assert page.locator(".opblock-summary-path", has_text="/api/v1/documents").count() >= 1

    # Opening an operation shows its parameters and the shared error answers.
    page.locator(".opblock-get .opblock-summary-path", has_text="/api/v1/meetings/{meeting_id}").first.click()
    page.locator(".opblock.is-open .response[data-code='429']").first.wait_for()
    assert refused == []
    assert console_errors == []
