"""Celery tasks of the meetings app, found by ``app.autodiscover_tasks()``.

Sub-packages keep their tasks next to their services; importing them here registers them with
every worker process (a worker never loads the URLconf that would import them otherwise).
"""

from meetings.live import tasks as live_tasks  # noqa: F401
from meetings.uploads import tasks as uploads_tasks  # noqa: F401
