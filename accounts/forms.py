from __future__ import annotations

from allauth.account.forms import SignupForm as AllauthSignupForm
from django import forms

from accounts.models import Role


class SignupForm(AllauthSignupForm):
    full_name = forms.CharField(max_length=200, required=False, label="Your name")
    company_name = forms.CharField(
        max_length=200, required=False, label="Company name",
        help_text="Leave empty if a colleague invited you or your company already uses MeetPilot.",
    )

    def save(self, request):
        # Stash the company name for AccountAdapter.save_user before the user is created.
        request.session["signup_company_name"] = self.cleaned_data.get("company_name", "")
        user = super().save(request)
        return user


class InvitationForm(forms.Form):
    email = forms.EmailField()
    role = forms.ChoiceField(choices=Role.choices, initial=Role.MEMBER)


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, initial="Chrome extension")


class CompanyForm(forms.Form):
    name = forms.CharField(max_length=200)
    email_domain = forms.CharField(max_length=253, required=False,
                                   help_text="People who sign in with Google at this domain join as members.")
    confirm_below = forms.FloatField(
        min_value=0, max_value=1, required=False,
        help_text="Action items and decisions found with a confidence below this (0 to 1) are shown as suggestions "
                  "to confirm or dismiss, not as facts. 0 turns suggestions off; empty uses the server default.")
    keep_live_audio = forms.BooleanField(
        required=False, label="Keep live audio to separate speakers again after the meeting",
        help_text="Live meeting audio is stored while it streams; after the meeting the whole recording is "
                  "separated by voice and the speaker labels are corrected. Kept as long as live audio retention says.")

    def cleaned_update(self) -> dict:
        """The keyword arguments of ``accounts.services.company_update``."""
        data = dict(self.cleaned_data)
        patch = {"confirm_below": data.pop("confirm_below", None),
                 "keep_live_audio": data.pop("keep_live_audio", False)}
        return {**data, "settings_patch": patch}


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class RetentionForm(forms.Form):
    """Days to keep each kind of data; empty or 0 keeps it forever."""

    recordings = forms.IntegerField(min_value=0, max_value=36500, required=False, label="Uploaded recordings (days)")
    live_audio = forms.IntegerField(min_value=0, max_value=36500, required=False, label="Live audio (days)")
    transcripts = forms.IntegerField(min_value=0, max_value=36500, required=False, label="Transcripts (days)")
    reports = forms.IntegerField(min_value=0, max_value=36500, required=False, label="Reports (days)")


class EraseForm(forms.Form):
    confirm_email = forms.CharField(max_length=254, label="Type the person's email address to confirm")
