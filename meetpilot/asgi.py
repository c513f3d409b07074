"""The ASGI entry point (daphne): HTTP through Django, WebSockets through Channels."""

import logging
import os
from pathlib import Path

import django
from django.core.asgi import get_asgi_application

from meetpilot.embedded_db import ensure_started

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "meetpilot.settings.base")
# daphne may be started on its own (the Dockerfile, by hand): attach to the embedded database first
# (a no-op with DATABASE_URL), and give WhiteNoise its folder before collectstatic has run.
ensure_started()
django.setup(set_prefix=False)

from meetpilot import observability  # noqa: E402

# Sentry / OpenTelemetry when configured (before the handler loads its middleware, so requests are traced);
# also stamps published tasks with their publish time for the queue-age metric.
observability.setup()
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import OriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402

from accounts.auth import WebSocketAuthMiddleware  # noqa: E402
from meetpilot.routing import websocket_urlpatterns  # noqa: E402

Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
if settings.LIVE_AUDIO_PRELOAD:  # before the first socket, not during a meeting's first audio
    from meetings.speech.live_engines import live_audio_preload

    try:
        live_audio_preload()
    except Exception:  # the server still serves everything else; live audio fails when used, and says why
        logging.getLogger("meetpilot.live").exception("loading the live audio engine failed")

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # Origin first (a page on another site cannot ride a session cookie), then credentials.
        "websocket": OriginValidator(
            WebSocketAuthMiddleware(URLRouter(websocket_urlpatterns)), settings.WS_ALLOWED_ORIGINS
        ),
    }
)
