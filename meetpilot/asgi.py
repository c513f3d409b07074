import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "meetpilot.settings.base")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import OriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402

from accounts.auth import WebSocketAuthMiddleware  # noqa: E402
from meetpilot.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # Origin first (a page on another site cannot ride a session cookie), then credentials.
        "websocket": OriginValidator(
            WebSocketAuthMiddleware(URLRouter(websocket_urlpatterns)), settings.WS_ALLOWED_ORIGINS
        ),
    }
)
