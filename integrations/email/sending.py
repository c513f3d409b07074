"""Emails on behalf of a company: its from/reply-to settings, its on/off switch, and invitations."""

from __future__ import annotations

from dataclasses import dataclass

from django.template.loader import render_to_string

from accounts.models import Company, Invitation
from integrations.email.client import email_send
from integrations.models import Provider
from integrations.notifications import notification_send_once
from integrations.selectors import connection_get


@dataclass(frozen=True)
class EmailSettings:
    enabled: bool
    from_address: str
    reply_to: str


def email_settings(*, company: Company) -> EmailSettings:
    """The company's email connection; without one, email is on with the server's default sender."""
    connection = connection_get(company=company, provider=Provider.EMAIL)
    if connection is None:
        return EmailSettings(enabled=True, from_address="", reply_to="")
    return EmailSettings(enabled=connection.enabled, from_address=connection.config.get("from_address", ""),
                         reply_to=connection.config.get("reply_to", ""))


def company_email_send(*, company: Company, to: str, template: str, context: dict, subject: str,
                       always: bool = False) -> bool:
    """Render ``email/<template>.txt`` and ``.html`` and send them; False when the company switched email off
    (``always``: send anyway, for invitations)."""
    chosen = email_settings(company=company)
    if not chosen.enabled and not always:
        return False
    context = {**context, "company": company}
    email_send(to=[to], subject=subject, text=render_to_string(f"email/{template}.txt", context),
               html=render_to_string(f"email/{template}.html", context), from_address=chosen.from_address,
               reply_to=chosen.reply_to)
    return True


def invitation_email_send(*, company: Company, invitation_id: int, invite_url: str) -> bool:
    """Email a pending invitation its link (once); False when it is gone, used, withdrawn or expired."""
    invitation = (Invitation.objects.for_company(company).select_related("invited_by")
                  .filter(pk=invitation_id).first())
    if invitation is None or not invitation.is_pending:
        return False
    inviter = invitation.invited_by.display_name if invitation.invited_by else "Your admin"
    context = {"invitation": invitation, "invite_url": invite_url, "inviter": inviter}
    return notification_send_once(
        company=company, kind="email.invitation", key=str(invitation.pk),
        send=lambda: company_email_send(company=company, to=invitation.email, template="invitation",
                                        context=context, always=True,
                                        subject=f"{inviter} invited you to {company.name} on MeetPilot"))
