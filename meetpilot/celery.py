import os
from pathlib import Path

from celery import Celery, bootsteps, signals
from django.conf import settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "meetpilot.settings.base")

app = Celery("meetpilot")
# The app of every thread (daphne runs views in a pool): services enqueue through celery.current_app by name.
app.set_default()
app.config_from_object("django.conf:settings", namespace="CELERY")
# Sub-packages with tasks of their own are listed beside the installed apps.
app.autodiscover_tasks(lambda: [*settings.INSTALLED_APPS, "meetings.uploads", "meetings.live",
                                   "meetings.intelligence", "integrations.webhooks", "integrations.email"])
# Slack posts, emails after a report and the daily digest (workflows/notify_tasks.py).
app.autodiscover_tasks(lambda: ["workflows"], related_name="notify_tasks")


# Packages whose tasks run on a queue group whatever their names (after the name routes in settings).
PACKAGE_QUEUES = {"integrations": "integrations", "workflows": "integrations"}


def route_by_package(name, args, kwargs, options, task=None, **kw):
    """A task defined under ``integrations/`` goes to the integrations queue (when the sender knows the task)."""
    from django.conf import settings

    module = getattr(getattr(task, "run", None), "__module__", "") or ""
    group = PACKAGE_QUEUES.get(module.split(".", 1)[0])
    if group is None:
        return None
    prefix = settings.CELERY_QUEUE_PREFIX
    return {"queue": prefix if group == "default" else f"{prefix}.{group}"}


@app.on_after_configure.connect
def _broker_folders(sender, **kwargs):
    """The single-machine fallback broker (filesystem transport) writes into folders kombu does not create."""
    if str(sender.conf.broker_url or "").startswith("filesystem"):
        options = sender.conf.broker_transport_options or {}
        for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
            if options.get(key):
                Path(options[key]).mkdir(parents=True, exist_ok=True)


@signals.celeryd_init.connect
@signals.beat_init.connect
def _embedded_database(**kwargs):
    """``celery worker`` / ``celery beat`` started on their own attach to the embedded database (no-op with
    DATABASE_URL); importing this module starts nothing."""
    from meetpilot.embedded_db import ensure_started

    ensure_started()


class HeartbeatStep(bootsteps.StartStopStep):
    """Writes this worker's heartbeat to the database so /ready can tell a live worker."""

    requires = {"celery.worker.components:Timer"}

    def start(self, worker):
        from django.conf import settings

        self._beat(worker)
        self.tref = worker.timer.call_repeatedly(settings.WORKER_HEARTBEAT_INTERVAL, self._beat, (worker,))

    def stop(self, worker):
        if getattr(self, "tref", None):
            self.tref.cancel()

    def _beat(self, worker):
        import logging

        from accounts.services import worker_heartbeat_record
        from knowledge.embeddings import embedding_model_name

        try:
            model = embedding_model_name()
        except Exception:  # a misconfigured model is the tasks' error: the beat still says the worker lives
            logging.getLogger(__name__).exception("worker heartbeat: retrieval model unknown")
            model = ""
        try:
            worker_heartbeat_record(hostname=worker.hostname, retrieval_model=model)
        except Exception:  # a missed beat must never take the worker down
            logging.getLogger(__name__).exception("worker heartbeat failed")


app.steps["worker"].add(HeartbeatStep)
