"""WebSocket routes of the meetings app (appended to meetpilot.routing.websocket_urlpatterns)."""

from django.urls import path

from meetings.consumers import CompanyLiveConsumer, MeetingConsumer

websocket_urlpatterns = [
    # str, not int: a malformed id gets the same 4404 as an unknown one
    path("ws/meetings/<str:meeting_id>/", MeetingConsumer.as_asgi()),
    path("ws/meetings/", CompanyLiveConsumer.as_asgi()),
]
