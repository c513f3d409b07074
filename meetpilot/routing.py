"""Every WebSocket route of the project. Apps append their own patterns here."""

websocket_urlpatterns: list = []
