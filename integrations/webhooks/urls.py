from django.urls import path

from integrations.webhooks import views

app_name = "webhooks"

urlpatterns = [
    path("integrations/webhooks/", views.webhook_list, name="list"),
    path("integrations/webhooks/<int:endpoint_id>/", views.webhook_detail, name="detail"),
    path("integrations/webhooks/<int:endpoint_id>/delete/", views.webhook_delete, name="delete"),
    path("integrations/webhooks/deliveries/<int:delivery_id>/redeliver/", views.webhook_redeliver,
         name="redeliver"),
]
