"""allauth hooks: where a new user lands (invitation, company domain, or a company of their own)."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.db import transaction
from django.http import Http404

from accounts import services

INVITATION_SESSION_KEY = "invitation_token"


def _place_new_user(request, user) -> None:
    invitation_token = request.session.pop(INVITATION_SESSION_KEY, None) if request else None
    if invitation_token:
        try:
            services.invitation_accept(raw_token=invitation_token, user=user)
            return
        except services.InvitationError:
            pass  # fall through: the person still gets an account
    company_name = request.session.pop("signup_company_name", "") if request else ""
    services.user_join_or_create_company(user=user, company_name=company_name,
                                         email_verified=services.email_is_verified(user))


class AccountAdapter(DefaultAccountAdapter):
    def save_user(self, request, user, form, commit=True):
        user = super().save_user(request, user, form, commit=False)
        user.full_name = form.cleaned_data.get("full_name", "") or user.full_name
        if commit:
            with transaction.atomic():
                user.save()
                _place_new_user(request, user)
        return user


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def get_app(self, request, provider, client_id=None):
        from allauth.socialaccount.models import SocialApp

        try:
            return super().get_app(request, provider, client_id=client_id)
        except SocialApp.DoesNotExist:
            # Installed but not configured (no client id in the environment): a 404, not a 500.
            raise Http404(f"Sign-in with {provider} is not configured.")

    def populate_user(self, request, sociallogin, data):
        user = super().populate_user(request, sociallogin, data)
        extra = sociallogin.account.extra_data or {}
        user.full_name = data.get("name") or extra.get("name") or " ".join(
            x for x in [data.get("first_name"), data.get("last_name")] if x
        )
        user.avatar_url = (extra.get("picture") or "")[:500]
        return user

    def save_user(self, request, sociallogin, form=None):
        with transaction.atomic():
            user = super().save_user(request, sociallogin, form)
            _place_new_user(request, user)
        return user
