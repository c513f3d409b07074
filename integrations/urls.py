from django.urls import path

from integrations import views

app_name = "integrations"

urlpatterns = [
    path("integrations/", views.integrations_page, name="page"),
    path("integrations/<slug:provider>/", views.integration_save, name="save"),
    path("integrations/<slug:provider>/test/", views.integration_test, name="test"),
    path("integrations/<slug:provider>/delete/", views.integration_delete, name="delete"),
]
