from django.apps import AppConfig


class AiConfig(AppConfig):
    """AI configuration and access: prompts and their versions, provider settings and secrets,
    routing per prompt type, chat threads, and the SSE helper every streamed answer uses.

    The label stays ``intelligence`` so the tables and migration history it has always had remain.
    """

    name = "ai"
    label = "intelligence"
    verbose_name = "AI"
    default_auto_field = "django.db.models.BigAutoField"
