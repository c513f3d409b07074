from django.urls import path

from meetings.voices import views

app_name = "voices"

urlpatterns = [
    path("voices/", views.voices_page, name="page"),
    path("voices/enrol/", views.voices_enrol, name="enrol"),
    path("voices/export/", views.voices_export, name="export"),
    path("voices/delete/", views.voices_delete, name="delete"),
    path("voices/setting/", views.voices_setting, name="setting"),
]
