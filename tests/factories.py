"""Factories for every model; apps add theirs here so tests share one vocabulary."""

from __future__ import annotations

import itertools

from accounts import services as account_services
from accounts.models import Company, Membership, Role, User
from accounts.tenancy import tenant_scope

_seq = itertools.count(1)


def user_make(*, email: str | None = None, password: str = "correct-horse-9", full_name: str = "") -> User:
    n = next(_seq)
    return User.objects.create_user(email=email or f"user{n}@example.test", password=password,
                                    full_name=full_name or f"User {n}")


def company_make(*, name: str | None = None, email_domain: str = "", owner: User | None = None) -> Company:
    n = next(_seq)
    owner = owner or user_make(email=f"admin{n}@{email_domain or f'company{n}.test'}")
    return account_services.company_create(name=name or f"Company {n}", owner=owner, email_domain=email_domain)


def member_make(*, company: Company, role: str = Role.MEMBER, email: str | None = None) -> User:
    user = user_make(email=email)
    account_services.membership_add(company=company, user=user, role=role)
    return user


def admin_of(company: Company) -> User:
    with tenant_scope(company):
        return Membership.objects.filter(role=Role.ADMIN).select_related("user").first().user


def token_make(*, company: Company, user: User, name: str = "test") -> str:
    return account_services.api_token_create(company=company, user=user, name=name).raw_token
