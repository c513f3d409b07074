from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Each provider package registers its ProviderSpec (and ticket client) when imported.
        from integrations import email, google_calendar, jira, linear, slack  # noqa: F401
        from integrations.webhooks import receivers as webhook_receivers

        webhook_receivers.connect()
