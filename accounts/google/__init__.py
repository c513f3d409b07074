"""Sign in with Google through allauth, with Google's endpoints read from settings at request time.

allauth's own Google adapter copies its endpoint URLs into module constants when it is
first imported. This provider (selected by ``provider_class`` in
``SOCIALACCOUNT_PROVIDERS["google"]``) reads the same keys (``AUTHORIZE_URL``,
``ACCESS_TOKEN_URL``, ``IDENTITY_URL``, ``CERTS_URL``, ``ID_TOKEN_ISSUER``) on every
request instead, so a deployment behind a proxy, or a test with a stand-in Google on
127.0.0.1, can point them elsewhere without reloading modules.
"""
