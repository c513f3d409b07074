"""The one retry policy of every Celery task.

``@shared_task(bind=True, base=TenantTask, name=..., **retry_policy())``: transient failures
(database or broker connection, timeouts, or a service's ``Transient``) are retried with
exponential backoff and jitter; anything else fails the task at once. A task that must record the
failure after the last try checks ``final_attempt(self)`` before re-raising.

Tasks are idempotent and acknowledged after they ran (``acks_late``): a worker that dies mid-task leaves
its message to the next worker (docs/operations.md "Queues and workers"). The queue a task runs on
follows from its name (``CELERY_TASK_ROUTES`` in meetpilot/settings/runtime.py), never from the caller.
"""

from __future__ import annotations

from typing import Any

from celery import Task
from django.db import InterfaceError, OperationalError
from kombu.exceptions import OperationalError as BrokerError


class Transient(Exception):
    """Raised by a service for a failure worth another try (it may record progress first)."""


TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError, InterfaceError, BrokerError, ConnectionError, TimeoutError, Transient,
)


def retry_policy(*, max_retries: int = 4, idempotent: bool = True) -> dict[str, Any]:
    """Celery task options. ``idempotent``: a run redelivered after a worker crash may do the work again."""
    options: dict[str, Any] = {"autoretry_for": TRANSIENT_ERRORS, "retry_backoff": 5, "retry_backoff_max": 300,
                               "retry_jitter": True, "max_retries": max_retries}
    if idempotent:
        options.update(acks_late=True, reject_on_worker_lost=True)
    return options


def final_attempt(task: Task) -> bool:
    """Whether a failure now is the last one (no retry follows)."""
    return task.max_retries is not None and task.request.retries >= task.max_retries


def task_send(name: str, **kwargs: Any) -> None:
    """Queue the task registered as ``name``.

    Services enqueue by name so they never import the task modules above them (tasks call services). A web
    process has not run Celery's autodiscovery (only workers import the default modules) and its registry may
    not hold the task: then the message is sent by name, and the worker, which has every task, runs it.
    """
    from celery import current_app

    task = current_app.tasks.get(name)
    if task is None:
        current_app.loader.import_default_modules()
        task = current_app.tasks.get(name)
    if task is not None:
        task.delay(**kwargs)
    else:
        current_app.send_task(name, kwargs=kwargs)
