from django.apps import AppConfig


class MeetingsConfig(AppConfig):
    name = "meetings"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_delete

        from accounts.signals import seed_demo_data
        from meetings import demo, home  # noqa: F401  (home registers the Overview page's numbers)

        seed_demo_data.connect(demo.on_seed_demo_data, dispatch_uid="meetings.demo")

        from meetings.intelligence import receivers
        from meetings.models import Meeting
        from meetings.signals import transcript_completed

        transcript_completed.connect(receivers.on_transcript_completed, dispatch_uid="intelligence.report")
        post_delete.connect(receivers.on_meeting_deleted, sender=Meeting, dispatch_uid="intelligence.unindex")

        from meetings.models import ProcessingJob

        def forget_recording(sender, instance, **kwargs):  # imports the speech stack only when needed
            from meetings.uploads.services import recording_file_forget

            recording_file_forget(sender, instance, **kwargs)

        post_delete.connect(forget_recording, sender=ProcessingJob, dispatch_uid="meetings.forget_recording",
                            weak=False)

        from accounts.models import Membership
        from meetings.voices.services import on_membership_deleted

        post_delete.connect(on_membership_deleted, sender=Membership, dispatch_uid="meetings.voices.member_left")
