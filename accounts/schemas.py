from __future__ import annotations

from datetime import datetime
from typing import Annotated

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from ninja import Field, Schema
from pydantic import AfterValidator

from accounts.models import Role


class CompanyOut(Schema):
    id: int
    name: str
    slug: str
    email_domain: str
    plan: str
    settings: dict


class CompanyIn(Schema):
    name: str = Field(min_length=1, max_length=200)
    email_domain: str = Field(default="", max_length=253)
    confirm_below: float | None = Field(
        default=None, ge=0, le=1, description="findings with a lower confidence are suggestions to confirm "
                                              "(settings.confirm_below; null keeps the current value)")
    keep_live_audio: bool | None = Field(
        default=None, description="store live meeting audio so the speakers are separated again after the meeting "
                                  "(settings.keep_live_audio, off by default; null keeps the current value)")


class UserOut(Schema):
    id: int
    email: str
    full_name: str
    avatar_url: str
    timezone: str = Field(description="IANA time zone for the daily digest and emails; empty: the server's")


class MePatch(Schema):
    timezone: str = Field(max_length=64, description="IANA name such as Europe/Lisbon; empty for the server's")


class MeOut(Schema):
    user: UserOut
    company: CompanyOut
    role: str
    permissions: list[str]
    via: str


class MembershipOut(Schema):
    id: int
    user: UserOut
    role: str
    created_at: datetime


class MembershipIn(Schema):
    role: Role


def _django_email(value: str) -> str:
    # Django's rules, like the dashboard's form (pydantic's EmailStr refuses domains such as *.local).
    value = value.strip()
    try:
        validate_email(value)
    except ValidationError:
        raise ValueError("Enter a valid email address.") from None
    return value


Email = Annotated[str, Field(max_length=254), AfterValidator(_django_email)]


class InvitationIn(Schema):
    email: Email
    role: Role = Role.MEMBER


class InvitationOut(Schema):
    id: int
    email: str
    role: str
    created_at: datetime
    expires_at: datetime
    accepted_at: datetime | None


class InvitationCreatedOut(InvitationOut):
    invite_url: str = Field(description="Send this link to the person; it is shown only once.")


class TokenIn(Schema):
    name: str = Field(min_length=1, max_length=100)


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreatedOut(TokenOut):
    token: str = Field(description="The secret token. It is shown only once and stored hashed.")


class AuditEntryOut(Schema):
    id: int
    action: str
    actor_id: int | None
    actor_email: str
    target_type: str
    target_id: str
    detail: dict
    created_at: datetime


class PersonEraseIn(Schema):
    confirm_email: str = Field(max_length=254, description="the person's email address, to confirm the erasure")


class PersonErasedOut(Schema):
    user_id: int
    account: str = Field(description="'anonymised', or 'kept: member of another company'")
    counts: dict


_DAYS = Field(default=None, ge=0, le=36500, description="days to keep; 0 or null: forever")


class RetentionIn(Schema):
    recordings: int | None = _DAYS
    live_audio: int | None = _DAYS
    transcripts: int | None = _DAYS
    reports: int | None = _DAYS


class RetentionOut(Schema):
    recordings: int | None
    live_audio: int | None
    transcripts: int | None
    reports: int | None
