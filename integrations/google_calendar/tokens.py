"""A member's Google access token, from the allauth social token saved at sign-in (refreshed when expired).

Tokens are stored only with ``GOOGLE_CALENDAR_SYNC`` on (``SOCIALACCOUNT_STORE_TOKENS``), which also asks for
the ``calendar.readonly`` scope and offline access at Google sign-in.
"""

from __future__ import annotations

from datetime import timedelta

import httpx
from allauth.socialaccount.models import SocialApp, SocialToken
from django.conf import settings
from django.utils import timezone

from accounts.google.views import google_setting
from accounts.models import User
from integrations.spec import ProviderError


def _client_credentials() -> tuple[str, str]:
    apps = settings.SOCIALACCOUNT_PROVIDERS.get("google", {}).get("APPS") or []
    if apps:
        return apps[0]["client_id"], apps[0].get("secret", "")
    app = SocialApp.objects.filter(provider="google").first()
    return (app.client_id, app.secret) if app else ("", "")


def _refresh(token: SocialToken) -> SocialToken:
    client_id, secret = _client_credentials()
    try:
        response = httpx.post(google_setting("ACCESS_TOKEN_URL"), timeout=10.0, data={
            "grant_type": "refresh_token", "refresh_token": token.token_secret, "client_id": client_id,
            "client_secret": secret})
    except httpx.HTTPError as exc:
        raise ProviderError("Could not reach Google to renew the calendar access.", transient=True) from exc
    if response.status_code != 200:
        raise ProviderError("Google would not renew the calendar access: the person should sign in with Google "
                            "again.", status=response.status_code)
    data = response.json()
    token.token = data["access_token"]
    token.expires_at = timezone.now() + timedelta(seconds=int(data.get("expires_in", 3600)))
    token.save(update_fields=["token", "expires_at"])
    return token


def google_access_token(*, user: User) -> str | None:
    """A usable access token for the user's Google account, or None when they have none (or it cannot be
    renewed: no refresh token was granted)."""
    token = (SocialToken.objects.filter(account__user=user, account__provider="google")
             .order_by("-expires_at").first())
    if token is None:
        return None
    if token.expires_at and token.expires_at <= timezone.now() + timedelta(seconds=60):
        if not token.token_secret:
            return None
        token = _refresh(token)
    return token.token
