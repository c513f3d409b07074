from django.apps import AppConfig


class MeetingsConfig(AppConfig):
    name = "meetings"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from accounts.signals import seed_demo_data
        from meetings import demo, home  # noqa: F401  (home registers the Overview page's numbers)

        seed_demo_data.connect(demo.on_seed_demo_data, dispatch_uid="meetings.demo")
