from __future__ import annotations

import functools
import zoneinfo

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from accounts.tenancy import TenantModel


@functools.cache
def _timezone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())  # reads the zone database: once per process


def validate_timezone_name(value: str) -> None:
    if value and value not in _timezone_names():
        raise ValidationError(f"{value!r} is not a known time zone (use an IANA name such as Europe/Lisbon).")


class Company(models.Model):
    class Plan(models.TextChoices):
        FREE = "free", "Free"
        TEAM = "team", "Team"
        BUSINESS = "business", "Business"
        ENTERPRISE = "enterprise", "Enterprise"

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    # New users signing in with an address at this domain join the company as members.
    email_domain = models.CharField(max_length=253, blank=True, db_index=True)
    plan = models.CharField(max_length=20, choices=Plan.choices, default=Plan.FREE)
    settings = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "companies"
        constraints = [
            models.UniqueConstraint(
                fields=["email_domain"], condition=~models.Q(email_domain=""), name="company_email_domain_unique"
            )
        ]

    def __str__(self) -> str:
        return self.name


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: object) -> User:
        if not email:
            raise ValueError("Users need an email address")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: object) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=200, blank=True)
    avatar_url = models.URLField(max_length=500, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)
    # IANA name (e.g. "Europe/Lisbon") for the daily digest and dates in emails; empty means the site's TIME_ZONE.
    # db_default: the previous release inserts users without the column during a rolling upgrade.
    timezone = models.CharField(max_length=64, blank=True, default="", db_default="",
                                validators=[validate_timezone_name])

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    def __str__(self) -> str:
        return self.full_name or self.email

    @property
    def display_name(self) -> str:
        return self.full_name or self.email.split("@")[0]

    @property
    def initials(self) -> str:
        parts = (self.full_name or self.email).replace("@", " ").split()
        return "".join(p[0] for p in parts[:2]).upper()


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    MANAGER = "manager", "Manager"
    MEMBER = "member", "Member"


class Membership(TenantModel):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["company", "user"], name="membership_unique")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.company_id} ({self.role})"


class Invitation(TenantModel):
    email = models.EmailField()
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.MEMBER)
    # Only the hash of the link's secret is stored.
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > timezone.now()


class ApiToken(TenantModel):
    """A personal token for the Chrome extension and scripts. Shown once, stored hashed."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    # The first characters of the token, kept so people can tell their tokens apart.
    prefix = models.CharField(max_length=16)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class AuditEntry(TenantModel):
    """Who did what to the company's data: exports, deletions, integration changes, syncs.

    Written only by ``accounts.services.audit_record``; rows are never edited. ``actor`` is empty for
    what the system did on its own (retention, scheduled syncs).
    """

    actor = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # Kept when the actor's account is erased, so the log still says who it was.
    actor_email = models.EmailField(blank=True)
    # Dotted verb, e.g. "meeting.deleted", "export.person", "integration.jira.updated".
    action = models.CharField(max_length=80)
    target_type = models.CharField(max_length=40, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["company", "action", "created_at"], name="audit_company_action")]

    def __str__(self) -> str:
        return f"{self.action} {self.target_type}:{self.target_id}"


class WorkerHeartbeat(models.Model):
    """Last time each Celery worker said it was alive (operational, not tenant data)."""

    hostname = models.CharField(max_length=255, unique=True)
    seen_at = models.DateTimeField()
    # The model this worker embeds chunks with: a web process embedding questions with another finds
    # those chunks by their words only (/ready says so).
    # db_default: a worker of the previous release, started after the migration, inserts without the column.
    retrieval_model = models.CharField(max_length=100, blank=True, default="", db_default="")
