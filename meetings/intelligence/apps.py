from django.apps import AppConfig


class IntelligenceConfig(AppConfig):
    """After-meeting analysis, prompts, cross-meeting search and chat, analytics."""

    name = "meetings.intelligence"
    label = "intelligence"
    default_auto_field = "django.db.models.BigAutoField"
