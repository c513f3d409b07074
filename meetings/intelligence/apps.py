from django.apps import AppConfig


class IntelligenceConfig(AppConfig):
    """After-meeting analysis, prompts, cross-meeting search and chat, analytics."""

    name = "meetings.intelligence"
    label = "intelligence"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_delete

        from meetings.intelligence import receivers
        from meetings.models import Meeting
        from meetings.signals import transcript_completed

        transcript_completed.connect(receivers.on_transcript_completed, dispatch_uid="intelligence.report")
        post_delete.connect(receivers.on_meeting_deleted, sender=Meeting, dispatch_uid="intelligence.unindex")
