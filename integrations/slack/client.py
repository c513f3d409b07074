"""Slack Web API (chat.postMessage, auth.test) and incoming webhooks over plain httpx.

Errors become ``ProviderError`` with a message an admin can act on; a 429 carries Slack's ``Retry-After``
and 5xx answers and timeouts are transient (worth another try). ``SLACK_API_URL`` points the client at
Slack (or, in tests, at a fake server on 127.0.0.1).
"""

from __future__ import annotations

from typing import Any

import httpx
from django.conf import settings

from integrations.netguard import UnsafeTarget, url_check
from integrations.spec import ProviderError

# Slack's error codes, in words an admin can act on.
ERROR_MESSAGES = {
    "not_in_channel": "The MeetPilot app is not in that channel: invite it there (/invite @YourApp) and try again.",
    "channel_not_found": "Slack does not know that channel. Use its name (#team) or its id, and invite the app.",
    "is_archived": "That channel is archived.",
    "invalid_auth": "Slack refused the bot token: check that it is the Bot User OAuth Token (xoxb-…).",
    "not_authed": "No Slack token was sent: enter the bot token.",
    "token_revoked": "The Slack token was revoked: reinstall the app and enter the new token.",
    "account_inactive": "The Slack token belongs to a deactivated app or user.",
    "missing_scope": "The Slack app lacks a permission it needs (chat:write): add it and reinstall the app.",
    "invalid_blocks": "Slack refused the message layout.",
    "msg_too_long": "The message is too long for Slack.",
    "no_service": "That incoming webhook URL was removed or disabled in Slack.",
    "invalid_token": "That incoming webhook URL is not valid.",
    "channel_is_archived": "The incoming webhook's channel is archived.",
    "no_text": "The message was empty.",
}


def _retry_after(response: httpx.Response) -> float:
    try:
        return max(0.0, float(response.headers.get("Retry-After", "30")))
    except ValueError:
        return 30.0


def _timeout() -> httpx.Timeout:
    return httpx.Timeout(settings.SLACK_TIMEOUT_SECONDS, connect=min(5.0, settings.SLACK_TIMEOUT_SECONDS))


def _send(url: str, *, json: dict[str, Any], headers: dict[str, str] | None = None) -> httpx.Response:
    try:
        with httpx.Client(timeout=_timeout(), follow_redirects=False, trust_env=False) as client:
            response = client.post(url, json=json, headers=headers or {})
    except httpx.TimeoutException as exc:
        raise ProviderError("Slack did not answer in time.", transient=True) from exc
    except httpx.HTTPError as exc:
        raise ProviderError(f"Could not reach Slack ({exc.__class__.__name__}).", transient=True) from exc
    if response.status_code == 429:
        raise ProviderError("Slack asked us to slow down (rate limited).", status=429,
                            retry_after=_retry_after(response), transient=True)
    if response.status_code >= 500:
        raise ProviderError(f"Slack had an error (HTTP {response.status_code}).", status=response.status_code,
                            transient=True)
    return response


def _error(code: str, status: int | None = None) -> ProviderError:
    return ProviderError(ERROR_MESSAGES.get(code, f"Slack said: {code or 'unknown error'}"), status=status)


class SlackClient:
    """The Web API with a bot token."""

    def __init__(self, *, token: str, base_url: str | None = None) -> None:
        self.token = token
        self.base_url = (base_url or settings.SLACK_API_URL).rstrip("/")

    def call(self, method: str, payload: dict[str, Any]) -> dict[str, Any]:
        response = _send(f"{self.base_url}/{method}", json=payload,
                         headers={"Authorization": f"Bearer {self.token}"})
        try:
            data = response.json()
        except ValueError as exc:
            raise ProviderError(f"Slack answered HTTP {response.status_code} without JSON.",
                                status=response.status_code) from exc
        if not data.get("ok"):
            raise _error(str(data.get("error", "")), response.status_code)
        return data

    def auth_test(self) -> dict[str, Any]:
        return self.call("auth.test", {})

    def post_message(self, *, channel: str, text: str, blocks: list[dict[str, Any]]) -> dict[str, Any]:
        return self.call("chat.postMessage", {"channel": channel, "text": text, "blocks": blocks,
                                              "unfurl_links": False, "unfurl_media": False})


def webhook_post(url: str, *, text: str, blocks: list[dict[str, Any]]) -> None:
    """Post through an incoming webhook (it answers the plain text ``ok``, or an error code)."""
    try:
        url_check(url)
    except UnsafeTarget as exc:
        raise ProviderError(str(exc.detail)) from exc
    response = _send(url, json={"text": text, "blocks": blocks})
    if response.status_code != 200:
        raise _error(response.text.strip()[:100], response.status_code)
