from django.apps import AppConfig


class MeetingsConfig(AppConfig):
    name = "meetings"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_delete

        from accounts.signals import seed_demo_data

        # home registers the Overview page's numbers; lifecycle the meeting, chat and document parts of a person.
        from meetings import demo, home, lifecycle  # noqa: F401

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

        from accounts.lifecycle import register_person_part
        from accounts.models import Membership
        from meetings.voices import services as voices

        post_delete.connect(voices.on_membership_deleted, sender=Membership, dispatch_uid="meetings.voices.member_left")
        # A person's export and erasure include their voice; retention and deletion take meetings' voices.
        register_person_part("voices", export=voices.person_voice_export, erase=voices.person_voice_erase)
        lifecycle.register_meeting_purger("voices", voices.meeting_voices_purge)
