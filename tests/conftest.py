"""Shared fixtures: the alice/bob/charlie trio.

``company`` (Acme) has ``admin`` (alice), ``manager`` and ``member`` (bob);
``other_company`` (Globex) has ``outsider`` (charlie), who must see nothing of Acme.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.test import Client

from accounts.models import Company, Role, User
from accounts.tenancy import tenant_scope
from tests import factories


def pytest_configure(config) -> None:
    """Before any test touches the database: start (or attach to) the embedded server.

    pytest-django has read the settings by now; ``ensure_started`` points them at the server if needed.
    """
    from django.conf import settings

    from accounts import rls
    from meetpilot.embedded_db import ensure_started

    ensure_started()
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)  # WhiteNoise warns without it
    # Test bodies and fixtures outside any scope read and write as the maintenance role, as they did
    # through the ORM's base manager before row-level security; every request, task, socket and live
    # job enters a scope of its own and runs as the app role under the policies (tests/security).
    # TEST_RLS_AMBIENT=none runs them with no tenant row at all, as production code outside a scope.
    rls.ambient_maintenance_set(os.environ.get("TEST_RLS_AMBIENT", "maintenance") != "none")


_APP_CREDENTIALS: dict[str, str] = {}


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix) -> None:
    """The test database is created and migrated by the owner role (accounts/rls.py)."""
    from django.conf import settings

    default = settings.DATABASES["default"]
    _APP_CREDENTIALS.update(USER=default["USER"], PASSWORD=default.get("PASSWORD", ""))
    default.update(settings.DATABASE_OWNER)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Then every test runs the application as the app role: no superuser, no BYPASSRLS.

    Two grants exist in the test database only, both for ``flush`` between transactional tests
    (which the product never runs): TRUNCATE on the tables, and UPDATE on the sequences (the sites
    framework resets its sequence after a flush).
    """
    from django.conf import settings
    from django.db import connection
    from psycopg import sql

    with django_db_blocker.unblock():
        with connection.cursor() as cursor:
            roles = sql.SQL(", ").join(map(sql.Identifier, [settings.DATABASE_APP_ROLE,
                                                             settings.DATABASE_MAINTENANCE_ROLE]))
            cursor.execute(sql.SQL("GRANT TRUNCATE ON ALL TABLES IN SCHEMA public TO {}").format(roles))
            cursor.execute(sql.SQL("GRANT UPDATE ON ALL SEQUENCES IN SCHEMA public TO {}").format(roles))
        connection.close()
        connection.settings_dict.update(_APP_CREDENTIALS)
    yield
    with django_db_blocker.unblock():
        connection.close()
        connection.settings_dict.update(settings.DATABASE_OWNER)  # the owner drops the test database


@dataclass
class Actor:
    user: User
    company: Company
    token: str

    def api(self) -> Client:
        """A test client that calls the API with this actor's bearer token."""
        return Client(HTTP_AUTHORIZATION=f"Bearer {self.token}")

    def browser(self) -> Client:
        """A test client signed in with this actor's session (dashboard)."""
        client = Client()
        client.force_login(self.user, backend="django.contrib.auth.backends.ModelBackend")
        return client


@pytest.fixture
def company(db) -> Company:
    return factories.company_make(name="Acme", email_domain="acme.test",
                                  owner=factories.user_make(email="alice@acme.test", full_name="Alice Admin"))


@pytest.fixture
def other_company(db) -> Company:
    return factories.company_make(name="Globex", email_domain="globex.test",
                                  owner=factories.user_make(email="charlie@globex.test", full_name="Charlie"))


def _actor(company: Company, user: User) -> Actor:
    return Actor(user=user, company=company, token=factories.token_make(company=company, user=user))


@pytest.fixture
def admin(company) -> Actor:
    return _actor(company, factories.admin_of(company))


@pytest.fixture
def manager(company) -> Actor:
    return _actor(company, factories.member_make(company=company, role=Role.MANAGER, email="manny@acme.test"))


@pytest.fixture
def member(company) -> Actor:
    return _actor(company, factories.member_make(company=company, role=Role.MEMBER, email="bob@acme.test"))


@pytest.fixture
def outsider(other_company) -> Actor:
    return _actor(other_company, factories.admin_of(other_company))


@pytest.fixture
def scope(company):
    """Run the test body inside ``company``'s tenant scope (for direct model access)."""
    with tenant_scope(company):
        yield company


@pytest.fixture(scope="session")
def celery_config():
    return {"broker_url": os.environ.get("REDIS_URL", "memory://"), "result_backend": None}


@pytest.fixture
def celery_worker(transactional_db):
    """A real Celery worker (solo pool, in a thread) consuming the real broker.

    Tests using it see committed data only, so they run with ``transactional_db``.
    """
    from celery.contrib.testing.worker import start_worker
    from django.conf import settings

    from meetpilot.celery import app

    app.conf.task_always_eager = False
    # Tasks queued by earlier tests (without a worker) point at rows that are gone: drop them (every queue).
    app.control.purge()
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10, loglevel="WARNING",
                      queues=settings.CELERY_QUEUES_ALL) as w:
        yield w


@pytest.fixture
def fake_google(settings):
    """A stand-in Google (tests/fakes/google_server.py) on 127.0.0.1, with allauth pointed at it.

    ``fake_google.sign_in_as(email=...)`` picks the Google account; then POST to
    ``reverse("google_login")`` and follow ``fake_google.authorize(location)`` back to the callback.
    """
    from tests.fakes.google_server import FakeGoogle

    with FakeGoogle() as google:
        settings.SOCIALACCOUNT_PROVIDERS = {**settings.SOCIALACCOUNT_PROVIDERS, "google": google.provider_settings()}
        settings.GOOGLE_CLIENT_ID = google.client_id
        yield google
