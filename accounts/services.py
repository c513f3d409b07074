"""Writes for companies, people, invitations and API tokens."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from accounts import selectors
from accounts.auth import token_generate, token_hash
from accounts.lifecycle import ERASED_EMAIL_DOMAIN, person_parts, retention_clean, retention_policy
from accounts.models import (
    ApiToken,
    AuditEntry,
    Company,
    Invitation,
    Membership,
    Role,
    User,
    WorkerHeartbeat,
    validate_timezone_name,
)
from accounts.tenancy import scopes_disabled
from meetpilot.errors import Conflict, Invalid, NotFound
from meetpilot.tasks import task_send

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


def user_timezone_set(*, user: User, timezone_name: str) -> User:
    """The person's own time zone (the daily digest goes out at 8:00 there); raises Invalid if unknown."""
    try:
        validate_timezone_name(timezone_name.strip())
    except ValidationError as exc:
        raise Invalid(exc.messages[0], code="invalid_timezone") from exc
    user.timezone = timezone_name.strip()
    user.save(update_fields=["timezone"])
    return user


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
    # The link is also emailed (integrations/email), from a task once the invitation is committed; the
    # admin still gets the copyable link. The message carries the link: only its hash is stored here.
    invite_url = invitation_url(raw)
    transaction.on_commit(lambda: task_send("integrations.invitation_email", company_id=company.pk,
                                            invitation_id=invitation.pk, invite_url=invite_url))
    return CreatedInvitation(invitation=invitation, raw_token=raw)


def invitation_url(raw_token: str) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("accounts:invitation_accept", args=[raw_token])


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


def worker_heartbeat_record(*, hostname: str, retrieval_model: str = "") -> None:
    WorkerHeartbeat.objects.update_or_create(
        hostname=hostname, defaults={"seen_at": timezone.now(), "retrieval_model": retrieval_model}
    )


def audit_record(*, company: Company, action: str, actor: User | None = None, target_type: str = "",
                 target_id: str | int = "", detail: dict | None = None) -> AuditEntry:
    """Append one entry to the company's audit log (the only writer of ``AuditEntry``).

    ``detail`` must never carry secrets or personal content: ids, counts and field names only.
    """
    return AuditEntry.objects.for_company(company).create(
        company=company, actor=actor, actor_email=getattr(actor, "email", "") or "", action=action[:80],
        target_type=target_type[:40], target_id=str(target_id)[:64], detail=detail or {},
    )


# --- a person's data: export and erasure; retention ---------------------------------------------


def _isoformat(value) -> str | None:
    return value.isoformat() if value is not None else None


def _person_account(company: Company, user: User) -> dict:
    """What ``accounts`` holds about the person, in this company only."""
    membership = Membership.objects.for_company(company).filter(user=user).first()
    tokens = ApiToken.objects.for_company(company).filter(user=user).order_by("created_at", "pk")
    return {
        "user": {"id": user.pk, "email": user.email, "full_name": user.full_name, "avatar_url": user.avatar_url,
                 "date_joined": _isoformat(user.date_joined), "last_login": _isoformat(user.last_login),
                 "is_active": user.is_active},
        "membership": {"role": membership.role, "since": _isoformat(membership.created_at)} if membership else None,
        # Metadata only: the tokens themselves are never stored.
        "api_tokens": [{"id": t.pk, "name": t.name, "prefix": t.prefix, "created_at": _isoformat(t.created_at),
                        "last_used_at": _isoformat(t.last_used_at), "revoked_at": _isoformat(t.revoked_at)}
                       for t in tokens],
        "audit_entries_as_actor": [
            {"action": e.action, "target_type": e.target_type, "target_id": e.target_id,
             "at": _isoformat(e.created_at)}
            for e in AuditEntry.objects.for_company(company).filter(actor=user).order_by("created_at", "pk")],
    }


def person_export(*, company: Company, user: User, by_user: User) -> dict:
    """Everything the company holds about ``user`` as JSON-ready data, recorded in the audit log.

    The person's account, membership and token metadata, then every registered part
    (``accounts.lifecycle``): only ``company``'s rows, never another company's.
    """
    if not Membership.objects.for_company(company).filter(user=user).exists():
        raise NotFound("No such person in this company.")
    data: dict = {"format": "meetpilot.person-export.v1", "generated_at": timezone.now().isoformat(),
                  "company": {"id": company.pk, "name": company.name}, **_person_account(company, user)}
    for part in person_parts():
        if part.export is not None:
            data[part.name] = part.export(company, user)
    audit_record(company=company, actor=by_user, action="person.exported", target_type="user", target_id=user.pk,
                 detail={"self": by_user.pk == user.pk, "parts": sorted(k for k in data if k not in (
                     "format", "generated_at", "company"))})
    return data


def _account_anonymise(user: User) -> None:
    """The user row keeps no name, address, picture or way to sign in."""
    from allauth.account.models import EmailAddress
    from allauth.socialaccount.models import SocialAccount

    EmailAddress.objects.filter(user=user).delete()
    SocialAccount.objects.filter(user=user).delete()  # the provider's uid and profile
    user.email = f"erased-{user.pk}@{ERASED_EMAIL_DOMAIN}"
    user.full_name = ""
    user.avatar_url = ""
    user.is_active = False
    user.is_staff = False
    user.is_superuser = False
    user.set_unusable_password()
    user.save()


@transaction.atomic
def person_erase(*, company: Company, user: User, by_user: User) -> dict:
    """Erase ``user``'s personal data in ``company``: every registered part, their tokens, their membership.

    Segments they spoke keep their words under "Former member"; their chat threads go. The account
    itself (name, address, sign-in) is anonymised when this was their only company; a person who also
    belongs to another company keeps their account there, and ``account`` in the result says so.
    Refused (Conflict) for the company's last admin. Recorded in the audit log with counts only.
    """
    membership = Membership.objects.for_company(company).select_for_update().filter(user=user).first()
    if membership is None:
        raise NotFound("No such person in this company.")
    if membership.role == Role.ADMIN and not Membership.objects.for_company(company).filter(
            role=Role.ADMIN).exclude(pk=membership.pk).exists():
        raise Conflict("The company's last admin cannot be erased; make someone else an admin first.",
                       code="last_admin")
    counts: dict[str, dict[str, int]] = {}
    for part in person_parts():
        if part.erase is not None:
            counts[part.name] = dict(part.erase(company, user))
    now = timezone.now()
    revoked = ApiToken.objects.for_company(company).filter(user=user, revoked_at__isnull=True).update(revoked_at=now)
    ApiToken.objects.for_company(company).filter(user=user).update(name="", last_used_at=None)
    Invitation.objects.for_company(company).filter(email__iexact=user.email).delete()
    membership.delete()
    elsewhere = [c.pk for c in selectors.companies_of_user(user=user)]
    if elsewhere:
        account = "kept: member of another company"
    else:
        _account_anonymise(user)
        account = "anonymised"
    counts["accounts"] = {"tokens_revoked": revoked, "memberships_removed": 1}
    audit_record(company=company, actor=by_user, action="person.erased", target_type="user", target_id=user.pk,
                 detail={"self": by_user.pk == user.pk, "account": account, "counts": counts})
    logger.info("person erased", extra={"member_user_id": user.pk, "account": account})
    return {"user_id": user.pk, "account": account, "counts": counts}


def retention_set(*, company: Company, by_user: User | None, values: dict) -> dict[str, int | None]:
    """Store the company's retention policy (days per kind; 0 or empty keeps forever). Audited."""
    try:
        policy = retention_clean(values)
    except ValueError as exc:
        raise Invalid(str(exc), code="invalid_retention") from None
    before = retention_policy(company)
    company.settings = {**(company.settings or {}),
                        "retention": {kind: days for kind, days in policy.items() if days}}
    company.save(update_fields=["settings"])
    if before != policy:
        audit_record(company=company, actor=by_user, action="retention.updated", target_type="company",
                     target_id=company.pk, detail={"before": before, "after": policy})
    return policy
