"""Email through Django's email backend (console by default, SMTP when EMAIL_HOST is set)."""

from __future__ import annotations

import smtplib

from django.conf import settings
from django.core.mail import EmailMultiAlternatives

from integrations.spec import ProviderError


def email_send(*, to: list[str], subject: str, text: str, html: str = "", from_address: str = "",
               reply_to: str = "") -> None:
    message = EmailMultiAlternatives(subject=subject, body=text, from_email=from_address or settings.DEFAULT_FROM_EMAIL,
                                     to=to, reply_to=[reply_to] if reply_to else None)
    if html:
        message.attach_alternative(html, "text/html")
    try:
        message.send()
    except smtplib.SMTPRecipientsRefused as exc:
        raise ProviderError(f"The mail server refused the recipient: {', '.join(exc.recipients)}") from exc
    except smtplib.SMTPAuthenticationError as exc:
        raise ProviderError("The mail server refused the SMTP user name or password.") from exc
    except smtplib.SMTPSenderRefused as exc:
        raise ProviderError(f"The mail server refused the from address {exc.sender}.") from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise ProviderError(f"The mail server could not be reached or failed: {exc}", transient=True) from exc
