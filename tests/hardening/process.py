"""Run as its own process (``python -m tests.hardening.process <mode>``), the way the web process starts:
through ``meetpilot.asgi``, so what it sets up (Sentry, metrics) is what production sets up.

Modes:
``fail``     GET a deliberately failing view (added here, test-only) with a bearer token and a client
             address, then flush Sentry: the fake Sentry of the test should get the event, without them.
``metrics``  print ``/metrics`` as the web process serves it.
``trace``    GET /health, then flush the OpenTelemetry exporter (OTEL_EXPORTER_OTLP_ENDPOINT).

``EMBEDDED_DB_NAME`` names the test database (see meetpilot.settings.base).
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "meetpilot.settings.test")

from django.test import Client
from django.urls import clear_url_caches, path

from meetpilot import asgi  # noqa: F401  (django.setup(), observability.setup())

# Built, not written out: Sentry sends the source lines around a frame, and these must not show up that way.
SECRET_TOKEN = "_".join(["mp", "never-sent-to-sentry", "0123456789"])
CLIENT_ADDRESS = ".".join(["203", "0", "113", "77"])


def deliberately_failing_view(request):
    raise RuntimeError("deliberate failure for the error reporting test")


def main(mode: str) -> int:
    if mode == "fail":
        from meetpilot import urls

        urls.urlpatterns.insert(0, path("__test__/fail", deliberately_failing_view))
        clear_url_caches()
        response = Client(raise_request_exception=False, REMOTE_ADDR=CLIENT_ADDRESS).get(
            "/__test__/fail?page=2", HTTP_AUTHORIZATION=f"Bearer {SECRET_TOKEN}")
        import sentry_sdk

        sentry_sdk.flush(timeout=10)
        print(response.status_code)
        return 0
    if mode == "trace":
        from opentelemetry import trace

        print(Client().get("/health").status_code)
        trace.get_tracer_provider().force_flush(10_000)
        return 0
    if mode == "metrics":
        sys.stdout.write(Client().get("/metrics").content.decode())
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
