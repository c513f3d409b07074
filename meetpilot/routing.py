"""Every WebSocket route of the project. Apps append their own patterns here."""

from meetings.routing import websocket_urlpatterns as meetings_websocket_urlpatterns

websocket_urlpatterns: list = []
websocket_urlpatterns += meetings_websocket_urlpatterns
