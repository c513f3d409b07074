from django.urls import path

from knowledge import views

app_name = "knowledge"

urlpatterns = [
    path("documents/", views.documents, name="documents"),
    path("documents/<int:document_id>/", views.document_detail, name="document_detail"),
    path("documents/<int:document_id>/edit/", views.document_edit, name="document_edit"),
    path("documents/<int:document_id>/reindex/", views.document_reindex, name="document_reindex"),
    path("documents/<int:document_id>/delete/", views.document_delete, name="document_delete"),
    path("passages/<int:chunk_id>/", views.passage, name="passage"),
    path("ask/", views.ask, name="ask"),
]
