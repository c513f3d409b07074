"""The HTTP side of a webhook delivery: one signed POST, never following redirects."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import httpx
from django.conf import settings

from integrations.netguard import UnsafeTarget, url_check
from integrations.webhooks.signing import SIGNATURE_HEADER, signature_header

USER_AGENT = "MeetPilot-Webhooks/1"
RESPONSE_KEEP_CHARS = 500


@dataclass(frozen=True)
class AttemptResult:
    ok: bool
    status: int | None
    duration_ms: int
    error: str = ""
    response_body: str = ""


def body_encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


def webhook_post(*, url: str, secret: str, payload: dict[str, Any], headers: dict[str, str]) -> AttemptResult:
    """POST ``payload`` signed with ``secret``; a 2xx answer is success, anything else (or no answer) is not."""
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        url_check(url)  # again: the name may resolve elsewhere now than when the endpoint was saved
    except UnsafeTarget as exc:
        return AttemptResult(ok=False, status=None, duration_ms=elapsed(), error=str(exc.detail))
    body = body_encode(payload)
    request_headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, **headers,
                       SIGNATURE_HEADER: signature_header(secret, body)}
    timeout = httpx.Timeout(settings.WEBHOOK_TIMEOUT_SECONDS, connect=min(5.0, settings.WEBHOOK_TIMEOUT_SECONDS))
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client:
            response = client.post(url, content=body, headers=request_headers)
    except httpx.TimeoutException:
        return AttemptResult(ok=False, status=None, duration_ms=elapsed(),
                             error=f"No answer within {settings.WEBHOOK_TIMEOUT_SECONDS:g} seconds.")
    except httpx.HTTPError as exc:
        return AttemptResult(ok=False, status=None, duration_ms=elapsed(),
                             error=f"Could not connect: {exc.__class__.__name__}: {exc}"[:500])
    ok = 200 <= response.status_code < 300
    error = "" if ok else f"The endpoint answered {response.status_code}."
    if 300 <= response.status_code < 400:
        error += " Redirects are not followed: register the final URL."
    return AttemptResult(ok=ok, status=response.status_code, duration_ms=elapsed(), error=error,
                         response_body=response.text[:RESPONSE_KEEP_CHARS])
