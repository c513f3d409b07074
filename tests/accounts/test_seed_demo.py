"""manage.py seed_demo: the demo company and its admin, idempotently."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from accounts.management.commands.seed_demo import DEFAULT_DEMO_PASSWORD
from accounts.models import Company, Membership, Role, User
from accounts.signals import seed_demo_data
from accounts.tenancy import tenant_scope

pytestmark = pytest.mark.django_db


def seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def test_seed_demo_runs_twice_and_the_admin_can_sign_in(monkeypatch):
    monkeypatch.delenv("DEMO_ADMIN_PASSWORD", raising=False)
    first = seed()
    second = seed()
    assert "admin@demo.meetpilot.local" in first and DEFAULT_DEMO_PASSWORD in first and first == second

    company = Company.objects.get(email_domain="demo.meetpilot.local")
    assert company.name == "Acme Demo" and Company.objects.count() == 1 and User.objects.count() == 1
    with tenant_scope(company):
        [membership] = Membership.objects.all()
    assert membership.role == Role.ADMIN and membership.user.email == "admin@demo.meetpilot.local"

    client = Client()
    response = client.post(reverse("account_login"), {"login": "admin@demo.meetpilot.local",
                                                      "password": DEFAULT_DEMO_PASSWORD})
    assert response["Location"] == reverse("dashboard:home")
    assert "Acme Demo" in client.get(reverse("dashboard:home")).content.decode()


def test_seed_demo_takes_the_password_from_the_environment_and_repairs_the_admin(monkeypatch):
    seed()
    user = User.objects.get(email="admin@demo.meetpilot.local")
    user.is_active = False
    user.save()
    company = Company.objects.get(email_domain="demo.meetpilot.local")
    with tenant_scope(company):
        Membership.objects.filter(user=user).update(role=Role.MEMBER)

    monkeypatch.setenv("DEMO_ADMIN_PASSWORD", "another-demo-pass")
    assert "another-demo-pass" in seed()
    user.refresh_from_db()
    assert user.is_active and user.check_password("another-demo-pass")
    with tenant_scope(company):
        assert Membership.objects.get(user=user).role == Role.ADMIN


def test_with_data_lets_apps_add_their_demo_data():
    received = []

    def receiver(sender, company, admin, **kwargs):
        received.append((company.name, admin.email))

    seed_demo_data.connect(receiver)
    try:
        seed()
        assert received == []
        seed("--with-data")
    finally:
        seed_demo_data.disconnect(receiver)
    assert received == [("Acme Demo", "admin@demo.meetpilot.local")]
