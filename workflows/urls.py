from django.urls import path

from workflows import views

app_name = "workflows"

urlpatterns = [
    path("action-items/<int:action_item_id>/sync/<slug:provider>/", views.item_sync, name="item_sync"),
    path("action-items/<int:action_item_id>/sync-state/", views.item_sync_state, name="item_sync_state"),
]
