from __future__ import annotations

from typing import Any

from allauth.socialaccount import app_settings
from allauth.socialaccount.internal import jwtkit
from allauth.socialaccount.providers.google import views as google_views
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView, OAuth2LoginView

DEFAULTS = {
    "AUTHORIZE_URL": "https://accounts.google.com/o/oauth2/v2/auth",
    "ACCESS_TOKEN_URL": "https://oauth2.googleapis.com/token",
    "IDENTITY_URL": "https://www.googleapis.com/oauth2/v2/userinfo",
    "CERTS_URL": "https://www.googleapis.com/oauth2/v1/certs",
    "ID_TOKEN_ISSUER": "https://accounts.google.com",
}


def google_setting(key: str) -> Any:
    """One of Google's endpoint settings, read now (not at import)."""
    return app_settings.PROVIDERS.get("google", {}).get(key, DEFAULTS.get(key))


def id_token_decode(*, client_id: str, id_token: str, verify_signature: bool = True) -> dict:
    """Check an ID token's issuer, audience and expiry (and signature, against CERTS_URL)."""
    return jwtkit.verify_and_decode(
        credential=id_token,
        keys_url=google_setting("CERTS_URL"),
        issuer=google_setting("ID_TOKEN_ISSUER"),
        audience=client_id,
        lookup_kid=jwtkit.lookup_kid_pem_x509_certificate,
        verify_signature=verify_signature,
    )


class GoogleOAuth2Adapter(google_views.GoogleOAuth2Adapter):
    @property  # type: ignore[override]
    def authorize_url(self) -> str:
        return google_setting("AUTHORIZE_URL")

    @property  # type: ignore[override]
    def access_token_url(self) -> str:
        return google_setting("ACCESS_TOKEN_URL")

    @property  # type: ignore[override]
    def identity_url(self) -> str:
        return google_setting("IDENTITY_URL")

    @property  # type: ignore[override]
    def id_token_issuer(self) -> str:
        return google_setting("ID_TOKEN_ISSUER")

    @property  # type: ignore[override]
    def fetch_userinfo(self) -> bool:
        return bool(app_settings.PROVIDERS.get("google", {}).get("FETCH_USERINFO", False))

    def _decode_id_token(self, app, id_token):
        # A token we fetched ourselves from the token endpoint came straight from Google over TLS,
        # so (as in allauth and the OpenID Connect spec) only its claims are checked.
        return id_token_decode(client_id=app.client_id, id_token=id_token,
                               verify_signature=not self.did_fetch_access_token)


oauth2_login = OAuth2LoginView.adapter_view(GoogleOAuth2Adapter)
oauth2_callback = OAuth2CallbackView.adapter_view(GoogleOAuth2Adapter)
login_by_token = google_views.login_by_token  # uses the provider's verify_token below
