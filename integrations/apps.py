from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Each provider package registers its ProviderSpec (and ticket client) when imported.
        from integrations import jira, linear  # noqa: F401
