from __future__ import annotations

import requests
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.providers.google import provider as google_provider
from allauth.socialaccount.providers.oauth2.client import OAuth2Error

from accounts.google.views import GoogleOAuth2Adapter, id_token_decode


class GoogleProvider(google_provider.GoogleProvider):
    """allauth's Google provider with endpoints from settings; its URLs come from ``accounts.google.urls``."""

    oauth2_adapter_class = GoogleOAuth2Adapter

    def verify_token(self, request, token):
        credential = token.get("id_token")
        if not credential:
            raise get_adapter().validation_error("invalid_token")
        try:
            identity = id_token_decode(client_id=self.app.client_id, id_token=credential)
        except (OAuth2Error, requests.RequestException) as exc:
            raise get_adapter().validation_error("invalid_token") from exc
        return self.sociallogin_from_response(request, identity)
