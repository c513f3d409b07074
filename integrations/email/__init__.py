"""Email: the company's from and reply-to addresses, and whether MeetPilot emails people at all."""

from __future__ import annotations

from typing import Any

from integrations.email.client import email_send
from integrations.models import Provider
from integrations.spec import Field, ProviderError, ProviderSpec, register


def connection_test(config: dict[str, Any], secrets: dict[str, Any]) -> str:
    to = config.get("test_recipient") or config.get("reply_to") or config.get("from_address")
    if not to:
        raise ProviderError("Enter an address to send the test email to.")
    email_send(to=[to], subject="MeetPilot test email",
               text="This is a test email from MeetPilot: your email settings work.",
               from_address=config.get("from_address", ""), reply_to=config.get("reply_to", ""))
    return f"A test email was sent to {to}."


SPEC = register(ProviderSpec(
    provider=Provider.EMAIL,
    label="Email",
    help="Action items after each meeting, the daily digest and invitations go out by email. Switch the "
         "connection off to stop the action item emails and digests (invitations are still sent).",
    fields=(
        Field("from_address", "From address", kind="email",
              help="Shown as the sender; your mail server must allow it. Empty: the server's DEFAULT_FROM_EMAIL."),
        Field("reply_to", "Reply-to address", kind="email", help="Where replies go (optional)."),
        Field("test_recipient", "Send the test email to", kind="email", help="Defaults to the reply-to address."),
    ),
    test=connection_test,
))
