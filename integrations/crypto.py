"""Encryption at rest for integration credentials, with key rotation.

``INTEGRATIONS_ENCRYPTION_KEYS`` lists Fernet keys, newest first: the first encrypts, every one of them
decrypts, so a new key is added in front and the old ones stay until ``manage.py integrations_rotate_keys``
has re-encrypted every row. With no key configured, one is derived from SECRET_KEY (fine for a single
install; production sets its own keys so SECRET_KEY can change independently).
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class SecretsUnreadable(Exception):
    """The stored credentials were encrypted with a key that is no longer configured."""


def _keys() -> list[Fernet]:
    configured = [k for k in getattr(settings, "INTEGRATIONS_ENCRYPTION_KEYS", []) if k]
    if configured:
        return [Fernet(k.encode() if isinstance(k, str) else k) for k in configured]
    digest = hashlib.sha256(f"meetpilot.integrations.secrets:{settings.SECRET_KEY}".encode()).digest()
    return [Fernet(base64.urlsafe_b64encode(digest))]


def secrets_encrypt(values: dict[str, Any]) -> str:
    return MultiFernet(_keys()).encrypt(json.dumps(values, sort_keys=True).encode()).decode() if values else ""


def secrets_decrypt(token: str) -> dict[str, Any]:
    if not token:
        return {}
    try:
        return json.loads(MultiFernet(_keys()).decrypt(token.encode()))
    except (InvalidToken, ValueError) as exc:
        raise SecretsUnreadable("stored credentials cannot be decrypted with the configured keys") from exc


def secrets_rotate(token: str) -> str:
    """The same secrets encrypted with the newest key (raises SecretsUnreadable if no key reads them)."""
    if not token:
        return ""
    try:
        return MultiFernet(_keys()).rotate(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretsUnreadable("stored credentials cannot be decrypted with the configured keys") from exc
