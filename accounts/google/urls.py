from allauth.socialaccount.providers.oauth2.urls import default_urlpatterns
from django.urls import path

from accounts.google import views
from accounts.google.provider import GoogleProvider

urlpatterns = [
    *default_urlpatterns(GoogleProvider),
    path("google/login/token/", views.login_by_token, name="google_login_by_token"),
]
