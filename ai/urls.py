from django.urls import path

from ai import views

app_name = "ai"

urlpatterns = [
    path("prompts/", views.prompts_page, name="prompts"),
    path("prompts/<str:prompt_type>/", views.prompt_edit, name="prompt_edit"),
]
