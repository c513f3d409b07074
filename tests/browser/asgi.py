"""The ASGI app the browser tests' daphne serves: the real application plus static files.

Run by ``tests/browser/conftest.py`` as ``daphne tests.browser.asgi:application`` with
``DJANGO_SETTINGS_MODULE=meetpilot.settings.test`` and ``MEETPILOT_TEST_DB_NAME`` naming the
pytest database, so the server and the test see the same rows (tests use transactional_db).

It adds one test-only WebSocket route, ``/ws/__test__/whoami/``, which accepts any connection
the real middleware lets through and answers with who it is: proof that a page's socket is
authenticated the way the product's consumers will see it.
"""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "meetpilot.settings.test")

from django.conf import settings

if os.environ.get("MEETPILOT_TEST_DB_NAME"):
    # Before anything connects: point the default database at the test run's database.
    settings.DATABASES["default"]["NAME"] = os.environ["MEETPILOT_TEST_DB_NAME"]

import django

django.setup()

from channels.generic.websocket import AsyncJsonWebsocketConsumer  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402
from django.urls import path  # noqa: E402

from accounts.auth import websocket_subprotocol  # noqa: E402
from meetpilot import routing  # noqa: E402
from meetpilot.asgi import application as project_application  # noqa: E402

WHOAMI_PATH = "ws/__test__/whoami/"


class WhoAmIConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        principal = self.scope["principal"]
        await self.accept(subprotocol=websocket_subprotocol(self.scope))
        await self.send_json({"user": principal.user.email, "company": principal.company.name, "via": principal.via})


# meetpilot.asgi's URLRouter holds this very list, so the route is live in the real stack.
routing.websocket_urlpatterns.append(path(WHOAMI_PATH, WhoAmIConsumer.as_asgi()))

# Static files for http (daphne has no static serving of its own); WebSockets pass straight through.
application = ASGIStaticFilesHandler(project_application)
