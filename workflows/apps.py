from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    """Where a meeting's work goes next: tickets in Jira and Linear, Slack posts, emails, digests.

    It sits above ``meetings`` (it reads meetings and writes through their services) and listens to
    ``integrations.events.company_event``; the provider clients it calls live in ``integrations``.
    """

    name = "workflows"
    verbose_name = "Workflows"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from integrations.events import company_event
        from workflows import notify
        from workflows.receivers import on_company_event

        company_event.connect(on_company_event, dispatch_uid="workflows.tickets")
        notify.connect()  # report.ready: Slack post and action item emails
