"""``manage.py live_worker``: run live meeting analysis outside the web processes.

With ``LIVE_ANALYSIS_MODE=worker`` the web (daphne) processes only store, ack and broadcast; one or
more of these processes analyse what the meetings owe (the durable backlog), meeting by meeting
under each meeting's lease, and publish the findings through the channel layer.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand

from meetings.live.pipeline import live_worker_run


class Command(BaseCommand):
    help = "Analyse live meetings' captions as they are stored (for LIVE_ANALYSIS_MODE=worker)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--poll", type=float, default=settings.LIVE_WORKER_POLL_SECONDS,
                            help="seconds between looks at the backlog")

    def handle(self, *args, **options) -> None:
        self.stdout.write(f"live worker: polling every {options['poll']} s")
        live_worker_run(poll=options["poll"])
