"""Writes for companies, people, invitations and API tokens."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from accounts.auth import token_generate, token_hash
from accounts.models import ApiToken, AuditEntry, Company, Invitation, Membership, Role, User, WorkerHeartbeat
from accounts.tenancy import scopes_disabled

logger = logging.getLogger(__name__)

PUBLIC_EMAIL_DOMAINS = frozenset(
    {"gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "yahoo.com", "icloud.com",
     "me.com", "aol.com", "proton.me", "protonmail.com", "gmx.com", "yandex.com", "mail.com"}
)


class InvitationError(Exception):
    """An invitation link that cannot be used; the message is for people.

    ``invitation`` is the invitation behind the link when there is one (used, expired or revoked).
    """

    def __init__(self, message: str, invitation: Invitation | None = None) -> None:
        super().__init__(message)
        self.invitation = invitation


def email_domain(email: str) -> str:
    return email.rsplit("@", 1)[-1].lower() if "@" in email else ""


def _unique_slug(name: str) -> str:
    base = slugify(name)[:60] or "company"
    slug = base
    while Company.objects.filter(slug=slug).exists():
        slug = f"{base}-{secrets.token_hex(3)}"
    return slug


@transaction.atomic
def company_create(*, name: str, owner: User, email_domain: str = "", plan: str = Company.Plan.FREE) -> Company:
    """A new company with ``owner`` as its first admin."""
    company = Company(name=name.strip() or "My company", slug=_unique_slug(name), plan=plan,
                      email_domain=email_domain.lower())
    company.full_clean()
    company.save()
    membership_add(company=company, user=owner, role=Role.ADMIN)
    return company


def membership_add(*, company: Company, user: User, role: str) -> Membership:
    """``user`` joins ``company`` (idempotent: an existing membership is returned as it is).

    Joining happens before the person has a scope in the company (sign-up, an invitation link, a
    new company, seeding), so this is one of the documented ``scopes_disabled()`` places; the
    company is named explicitly in the lookup.
    """
    with scopes_disabled(user_id=user.pk):
        membership, _ = Membership.objects.get_or_create(company=company, user=user, defaults={"role": role})
    return membership


def membership_role_set(*, company: Company, membership: Membership, role: str) -> Membership:
    assert membership.company_id == company.pk
    if membership.role == Role.ADMIN and role != Role.ADMIN:
        _ensure_another_admin(company=company, membership=membership)
    membership.role = role
    membership.full_clean()
    membership.save(update_fields=["role"])
    logger.info("member role changed", extra={"membership_id": membership.pk, "role": role})
    return membership


@transaction.atomic
def membership_remove(*, company: Company, membership: Membership) -> None:
    assert membership.company_id == company.pk
    if membership.role == Role.ADMIN:
        _ensure_another_admin(company=company, membership=membership)
    ApiToken.objects.for_company(company).filter(user_id=membership.user_id, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    logger.info("member removed", extra={"membership_id": membership.pk, "member_user_id": membership.user_id})
    membership.delete()


def _ensure_another_admin(*, company: Company, membership: Membership) -> None:
    others = Membership.objects.for_company(company).filter(role=Role.ADMIN).exclude(pk=membership.pk).exists()
    if not others:
        raise ValueError("A company needs at least one admin.")


def email_is_verified(user: User, email: str | None = None) -> bool:
    """Whether ``user`` proved they own ``email`` (a confirmed address, or one the identity provider vouched for)."""
    from allauth.account.models import EmailAddress

    return EmailAddress.objects.filter(user=user, email__iexact=email or user.email, verified=True).exists()


def user_join_or_create_company(*, user: User, company_name: str = "", email_verified: bool = False) -> Membership:
    """Where a newly signed-up user lands.

    Only a verified address counts as proof of working at a domain: such a user joins the
    company that owns their domain as a member, or gets a new company that claims it. Anyone
    else (an unverified sign-up, a public mail domain such as gmail.com) gets a company of their
    own without a domain and is its admin; colleagues join it through invitations.
    """
    domain = email_domain(user.email) if email_verified else ""
    if domain in PUBLIC_EMAIL_DOMAINS:
        domain = ""
    company = Company.objects.filter(email_domain=domain).first() if domain else None
    if company is not None:
        return membership_add(company=company, user=user, role=Role.MEMBER)
    name = company_name or (domain.split(".")[0].title() if domain else f"{user.display_name}'s team")
    try:
        company = company_create(name=name, owner=user, email_domain=domain)
    except IntegrityError:  # two first sign-ups from one domain at once: the second joins the first
        company = Company.objects.get(email_domain=domain)
        return membership_add(company=company, user=user, role=Role.MEMBER)
    return membership_add(company=company, user=user, role=Role.ADMIN)  # the one company_create made


# --- invitations ------------------------------------------------------------------


@dataclass(frozen=True)
class CreatedInvitation:
    invitation: Invitation
    raw_token: str


def invitation_create(*, company: Company, email: str, role: str, invited_by: User) -> CreatedInvitation:
    raw = secrets.token_urlsafe(32)
    invitation = Invitation(
        company=company,
        email=email.strip().lower(),
        role=role,
        token_hash=token_hash(raw),
        invited_by=invited_by,
        expires_at=timezone.now() + timedelta(days=settings.INVITATION_TTL_DAYS),
    )
    invitation.full_clean()  # uniqueness is checked among the company's rows (TenantModel), in or out of a scope
    invitation.save()
    logger.info("invitation created", extra={"invitation_id": invitation.pk, "role": role})
    return CreatedInvitation(invitation=invitation, raw_token=raw)


def invitation_revoke(*, company: Company, invitation: Invitation) -> None:
    assert invitation.company_id == company.pk
    if invitation.accepted_at is None and invitation.revoked_at is None:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])


def invitation_by_token(raw_token: str) -> Invitation:
    """The invitation behind a link, or InvitationError with a message for people."""
    hashed = token_hash(raw_token)
    with scopes_disabled(token_hash=hashed):  # the link itself names the company
        invitation = Invitation.objects.select_related("company").filter(token_hash=hashed).first()
    if invitation is None:
        raise InvitationError("This invitation link is not valid. Ask your admin for a new one.")
    if invitation.revoked_at is not None:
        raise InvitationError("This invitation was withdrawn. Ask your admin for a new one.", invitation)
    if invitation.accepted_at is not None:
        raise InvitationError("This invitation has already been used. Sign in to continue.", invitation)
    if invitation.expires_at <= timezone.now():
        raise InvitationError("This invitation has expired. Ask your admin to send a new one.", invitation)
    return invitation


@transaction.atomic
def invitation_accept(*, raw_token: str, user: User) -> Membership:
    invitation = invitation_by_token(raw_token)
    with scopes_disabled(token_hash=invitation.token_hash):  # the link names the row, in any company
        locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if locked.accepted_at is not None:
            raise InvitationError("This invitation has already been used. Sign in to continue.", locked)
        locked.accepted_at = timezone.now()
        locked.accepted_by = user
        locked.save(update_fields=["accepted_at", "accepted_by"])
    membership = membership_add(company=invitation.company, user=user, role=locked.role)
    logger.info("invitation accepted", extra={"invitation_id": locked.pk, "member_user_id": user.pk})
    return membership


# --- API tokens ----------------------------------------------------------------------


@dataclass(frozen=True)
class CreatedToken:
    token: ApiToken
    raw_token: str  # shown to the user once, never stored


def api_token_create(*, company: Company, user: User, name: str) -> CreatedToken:
    raw = token_generate()
    token = ApiToken(company=company, user=user, name=name.strip() or "API token", prefix=raw[:10],
                     token_hash=token_hash(raw))
    token.full_clean()
    token.save()
    logger.info("api token created", extra={"token_id": token.pk, "token_prefix": token.prefix})
    return CreatedToken(token=token, raw_token=raw)


def api_token_revoke(*, company: Company, token: ApiToken) -> ApiToken:
    assert token.company_id == company.pk
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        logger.info("api token revoked", extra={"token_id": token.pk})
    return token


# --- company ------------------------------------------------------------------------


def company_update(*, company: Company, by_user: User, name: str, email_domain: str,
                   settings_patch: dict | None = None) -> Company:
    domain = email_domain.strip().lower().lstrip("@")
    if domain in PUBLIC_EMAIL_DOMAINS:
        # Everyone at gmail.com would join this company on sign-up.
        raise ValidationError({"email_domain": f"{domain} is a public mail domain; use your company's own domain."})
    if domain and Company.objects.filter(email_domain=domain).exclude(pk=company.pk).exists():
        raise ValidationError({"email_domain": "Another company already uses this domain."})
    if domain and domain != company.email_domain and not _owns_domain(by_user, domain):
        # Whoever claims a domain brings everyone who signs in from it into this company: ask for proof.
        raise ValidationError({"email_domain": f"To claim {domain}, sign in with a verified address at {domain}."})
    company.name = name.strip()
    company.email_domain = domain
    if settings_patch:
        company.settings = {**company.settings, **settings_patch}
    company.full_clean()
    company.save()
    return company


def _owns_domain(user: User, domain: str) -> bool:
    return email_domain(user.email) == domain and email_is_verified(user)


# --- the demo company -------------------------------------------------------------------

DEMO_COMPANY_NAME = "Acme Demo"
DEMO_DOMAIN = "demo.meetpilot.local"
DEMO_ADMIN_EMAIL = f"admin@{DEMO_DOMAIN}"


@transaction.atomic
def demo_company_seed(*, password: str) -> tuple[Company, User]:
    """The demo company and its admin: created once, repaired on later runs (password reset to ``password``)."""
    user = User.objects.filter(email=DEMO_ADMIN_EMAIL).first()
    if user is None:
        user = User.objects.create_user(email=DEMO_ADMIN_EMAIL, password=password, full_name="Demo Admin")
    else:
        user.set_password(password)
        user.is_active = True
        user.save(update_fields=["password", "is_active"])
    company = Company.objects.filter(email_domain=DEMO_DOMAIN).first()
    if company is None:
        company = company_create(name=DEMO_COMPANY_NAME, owner=user, email_domain=DEMO_DOMAIN)
    membership = membership_add(company=company, user=user, role=Role.ADMIN)
    if membership.role != Role.ADMIN:
        with scopes_disabled(user_id=user.pk):  # seeding runs outside any scope; the row is the user's own
            membership.role = Role.ADMIN
            membership.save(update_fields=["role"])
    return company, user


def worker_heartbeat_record(*, hostname: str) -> None:
    WorkerHeartbeat.objects.update_or_create(hostname=hostname, defaults={"seen_at": timezone.now()})


def audit_record(*, company: Company, action: str, actor: User | None = None, target_type: str = "",
                 target_id: str | int = "", detail: dict | None = None) -> AuditEntry:
    """Append one entry to the company's audit log (the only writer of ``AuditEntry``).

    ``detail`` must never carry secrets or personal content: ids, counts and field names only.
    """
    return AuditEntry.objects.for_company(company).create(
        company=company, actor=actor, actor_email=getattr(actor, "email", "") or "", action=action[:80],
        target_type=target_type[:40], target_id=str(target_id)[:64], detail=detail or {},
    )
