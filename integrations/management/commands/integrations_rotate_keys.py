"""Re-encrypt every stored integration credential with the newest INTEGRATIONS_ENCRYPTION_KEYS key."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from accounts.tenancy import scopes_disabled
from integrations.models import Connection, WebhookEndpoint
from integrations.services import connection_secrets_rotate
from integrations.webhooks.services import webhook_secret_rotate


class Command(BaseCommand):
    help = "Re-encrypt integration credentials with the first key of INTEGRATIONS_ENCRYPTION_KEYS."

    def handle(self, *args, **options) -> None:
        rotated = unreadable = 0
        with scopes_disabled():
            for connection in Connection.objects.exclude(secrets_encrypted="").iterator():
                if connection_secrets_rotate(connection=connection):
                    rotated += 1
                else:
                    unreadable += 1
        self.stdout.write(f"re-encrypted {rotated} connection(s); {unreadable} unreadable with the configured keys")
        rotated = unreadable = 0
        with scopes_disabled():
            for endpoint in WebhookEndpoint.objects.iterator():
                if webhook_secret_rotate(endpoint=endpoint):
                    rotated += 1
                else:
                    unreadable += 1
        self.stdout.write(f"re-encrypted {rotated} webhook secret(s); {unreadable} unreadable with the configured keys")
