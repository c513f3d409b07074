from django.urls import path

from meetings.intelligence import views

app_name = "intelligence"

urlpatterns = [
    path("meetings/<int:meeting_id>/report/", views.report, name="report"),
    path("meetings/<int:meeting_id>/report/regenerate/", views.report_regenerate, name="report_regenerate"),
    path("meetings/<int:meeting_id>/report/export.<str:fmt>", views.report_export, name="report_export"),
    path("search/", views.search_page, name="search"),
    path("chat/", views.chat_page, name="chat"),
    path("chat/new/", views.chat_thread_new, name="chat_new"),
    path("chat/<int:thread_id>/", views.chat_page, name="chat_thread"),
    path("chat/<int:thread_id>/delete/", views.chat_thread_delete, name="chat_delete"),
    path("analytics/", views.analytics_page, name="analytics"),
    path("analytics/people/<int:user_id>/", views.analytics_person, name="analytics_person"),
]
