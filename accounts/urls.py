from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("team/", views.team, name="team"),
    path("team/invitations/", views.invitation_create, name="invitation_create"),
    path("team/invitations/<int:invitation_id>/revoke/", views.invitation_revoke, name="invitation_revoke"),
    path("team/members/<int:membership_id>/role/", views.member_role, name="member_role"),
    path("team/members/<int:membership_id>/remove/", views.member_remove, name="member_remove"),
    path("invite/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path("tokens/", views.tokens, name="tokens"),
    path("extension/", views.extension, name="extension"),
    path("extension/connect/", views.extension, name="extension_connect_page"),
    path("extension/connect/token/", views.extension_connect, name="extension_connect"),
    path("extension/download/", views.extension_download, name="extension_download"),
    path("tokens/new/", views.token_create, name="token_create"),
    path("tokens/<int:token_id>/revoke/", views.token_revoke, name="token_revoke"),
    path("settings/", views.company_settings, name="settings"),
    path("settings/retention/", views.retention_update, name="retention_update"),
    path("privacy/", views.privacy, name="privacy"),
    path("privacy/export/", views.person_export, name="person_export_me"),
    path("privacy/erase/", views.person_erase, name="person_erase_me"),
    path("privacy/people/<int:user_id>/export/", views.person_export, name="person_export"),
    path("privacy/people/<int:user_id>/erase/", views.person_erase, name="person_erase"),
    path("audit/", views.audit_log, name="audit"),
    path("switch-company/", views.company_switch, name="company_switch"),
    path("welcome/", views.no_company, name="no_company"),
]
