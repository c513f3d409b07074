from django.urls import path

from meetings.uploads import views

app_name = "uploads"

urlpatterns = [
    path("meetings/upload/", views.upload_new, name="new"),
    path("meetings/import/", views.transcript_import, name="import"),
    path("meetings/<int:meeting_id>/processing/", views.processing, name="processing"),
    path("meetings/<int:meeting_id>/processing/retry/", views.processing_retry, name="retry"),
]
