from django.urls import path

from meetings import views

app_name = "meetings"

urlpatterns = [
    path("meetings/", views.meeting_list, name="list"),
    path("meetings/new/", views.meeting_create, name="create"),
    path("meetings/<int:meeting_id>/", views.meeting_detail, name="detail"),
    path("meetings/<int:meeting_id>/edit/", views.meeting_edit, name="edit"),
    path("meetings/<int:meeting_id>/delete/", views.meeting_delete, name="delete"),
    path("meetings/<int:meeting_id>/start/", views.meeting_start, name="start"),
    path("meetings/<int:meeting_id>/end/", views.meeting_end, name="end"),
    path("meetings/<int:meeting_id>/export/", views.transcript_export, name="export"),
    path("meetings/<int:meeting_id>/participants/", views.participant_add, name="participant_add"),
    path("meetings/<int:meeting_id>/participants/<int:participant_id>/", views.participant_update,
         name="participant_update"),
    path("meetings/<int:meeting_id>/participants/<int:participant_id>/delete/", views.participant_delete,
         name="participant_delete"),
    path("meetings/<int:meeting_id>/speakers/rename/", views.speaker_rename, name="speaker_rename"),
    path("meetings/<int:meeting_id>/action-items/", views.action_item_add, name="action_item_add"),
    path("action-items/", views.action_item_board, name="action_items"),
    path("action-items/<int:action_item_id>/", views.action_item_update, name="action_item_update"),
    path("action-items/<int:action_item_id>/delete/", views.action_item_delete, name="action_item_delete"),
    path("action-items/<int:action_item_id>/review/", views.action_item_review, name="action_item_review"),
    path("decisions/<int:decision_id>/review/", views.decision_review, name="decision_review"),
]
