"""Row-level security: the database's own wall between companies (accounts/rls.py).

Every query here is raw SQL on the application's own connection (the app role), so the ORM's
company filter is not involved: what comes back is what PostgreSQL's policies let through.
"""

from __future__ import annotations

import threading

import psycopg
import pytest
from django.apps import apps
from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.backends.signals import connection_created
from django.http import JsonResponse
from django.test import Client
from psycopg import sql

from accounts import rls
from accounts.models import Company
from accounts.services import audit_record, invitation_create
from accounts.tenancy import TenantTask, scopes_disabled, tenant_scope
from meetings.models import Meeting
from meetpilot.celery import app
from tests.intelligence.factories import chat_thread_make
from tests.meetings.factories import (
    action_item_make,
    decision_make,
    fact_check_make,
    meeting_make,
    report_make,
    segment_make,
    suggestion_make,
)


def rows_of(company: Company, user) -> Meeting:
    """A few rows in tables of every app for ``company``."""
    meeting = meeting_make(company=company, status=Meeting.Status.ENDED)
    segment = segment_make(meeting=meeting, text="Q3 revenue was $18.7M")
    action_item_make(meeting=meeting)
    decision_make(meeting=meeting, source_segments=[segment])
    fact_check_make(meeting=meeting)
    suggestion_make(meeting=meeting)
    report_make(meeting=meeting)
    chat_thread_make(company=company, user=user)
    with tenant_scope(company):
        audit_record(company=company, action="test.rls", actor=user)
        invitation_create(company=company, email=f"new@{company.slug}.test", role="member", invited_by=user)
    return meeting


@pytest.fixture
def both(admin, outsider):
    """Acme and Globex with rows in many tenant tables each."""
    return {"a": rows_of(admin.company, admin.user), "b": rows_of(outsider.company, outsider.user)}


def company_counts(cursor=None) -> dict[str, dict[int, int]]:
    """``{table: {company_id: rows}}`` as the current connection sees them, for every tenant table."""
    seen = {}
    with connection.cursor() as cur:
        for table, column in rls.tenant_tables().items():
            cur.execute(sql.SQL("SELECT {}, count(*) FROM {} GROUP BY 1").format(
                sql.Identifier(column), sql.Identifier(table)))
            seen[table] = dict(cur.fetchall())
    return seen


def setting() -> tuple[str, str]:
    with connection.cursor() as cur:
        cur.execute("SELECT current_setting('app.company_id', true), current_user")
        return cur.fetchone()


# --- the roles and the policies ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_application_connects_as_a_role_that_cannot_bypass_row_security():
    with tenant_scope(None), connection.cursor() as cur:
        cur.execute("SELECT session_user, current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = "
                    "session_user")
        assert cur.fetchone() == (settings.DATABASE_APP_ROLE, settings.DATABASE_APP_ROLE, False, False)
    assert settings.DATABASE_OWNER["USER"] != settings.DATABASE_APP_ROLE


def tenant_tables_from_the_models() -> set[str]:
    """Independently of accounts/rls.py: every concrete table with a foreign key to the company."""
    return {
        model._meta.db_table for model in apps.get_models()
        if not model._meta.proxy and any(
            getattr(field, "related_model", None) is Company and field.many_to_one
            for field in model._meta.concrete_fields)
    }


@pytest.mark.django_db
def test_every_tenant_table_and_no_other_has_forced_row_security_with_the_company_policy():
    with connection.cursor() as cur:
        cur.execute("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = current_schema() AND c.relkind = 'r' AND c.relrowsecurity "
                    "AND c.relforcerowsecurity")
        forced = {name for (name,) in cur.fetchall()}
        cur.execute("SELECT tablename, cmd, qual, with_check FROM pg_policies WHERE policyname = %s", [rls.POLICY])
        policies = {table: (cmd, qual, check) for table, cmd, qual, check in cur.fetchall()}
    expected = tenant_tables_from_the_models()
    assert len(expected) >= 20 and set(rls.tenant_tables()) == expected
    assert forced == expected, f"without row-level security: {expected - forced}; unexpected: {forced - expected}"
    assert set(policies) == expected
    for table, (cmd, qual, check) in policies.items():
        # FOR ALL: SELECT, INSERT, UPDATE and DELETE, rows read (USING) and rows written (WITH CHECK) alike
        assert cmd == "ALL" and "app.company_id" in qual and qual == check, table


# --- raw SQL through the app role ------------------------------------------------------------------------


@pytest.mark.django_db
def test_without_a_company_setting_raw_sql_sees_no_row_of_any_tenant_table(both):
    with scopes_disabled():  # the maintenance role: the rows are there
        everything = company_counts()
    populated = [table for table, counts in everything.items() if counts]
    assert len(populated) >= 10

    with tenant_scope(None):  # a request without a principal, a task without company_id
        assert setting() == ("", settings.DATABASE_APP_ROLE)
        assert {table: counts for table, counts in company_counts().items() if counts} == {}


@pytest.mark.django_db(transaction=True)
def test_a_bare_session_of_the_app_role_sees_nothing(both):
    """A connection that nobody told anything (a psql session, a forgotten code path) sees no tenant row."""
    params = connection.get_connection_params()
    with psycopg.connect(**{**params, "user": settings.DATABASE_APP_ROLE}, autocommit=True) as bare:
        assert bare.execute("SELECT current_user").fetchone() == (settings.DATABASE_APP_ROLE,)
        for table in rls.tenant_tables():
            assert bare.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone() == (0,)
        bare.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(settings.DATABASE_MAINTENANCE_ROLE)))
        assert bare.execute("SELECT count(*) FROM meetings_meeting").fetchone() == (2,)  # the rows exist


@pytest.mark.django_db
def test_with_company_a_set_company_b_rows_cannot_be_read_updated_or_deleted(both, admin, outsider):
    a, b = admin.company.pk, outsider.company.pk
    with scopes_disabled():
        before = company_counts()
    assert sum(1 for counts in before.values() if counts.get(b)) >= 10

    with tenant_scope(admin.company), connection.cursor() as cur:
        assert setting() == (str(a), settings.DATABASE_APP_ROLE)
        seen = company_counts()
        assert all(set(counts) <= {a} for counts in seen.values()), seen
        assert seen["meetings_meeting"] == {a: 1}
        for table, column in rls.tenant_tables().items():
            cur.execute(sql.SQL("UPDATE {} SET {} = {} WHERE {} = %s").format(
                sql.Identifier(table), sql.Identifier(column), sql.Identifier(column), sql.Identifier(column)), [b])
            assert cur.rowcount == 0, table
            cur.execute(sql.SQL("DELETE FROM {} WHERE {} = %s").format(sql.Identifier(table), sql.Identifier(column)),
                        [b])
            assert cur.rowcount == 0, table

    with scopes_disabled():
        assert company_counts() == before  # nothing of Globex's changed


def columns(table: str) -> list[str]:
    with connection.cursor() as cur:
        cur.execute("SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
                    "AND table_name = %s ORDER BY ordinal_position", [table])
        return [name for (name,) in cur.fetchall()]


@pytest.mark.django_db
def test_with_company_a_set_no_row_can_be_written_into_company_b(both, admin, outsider):
    b = outsider.company.pk
    refused = []
    with tenant_scope(admin.company):
        for table, column in rls.tenant_tables().items():
            # A copy of one of Acme's own rows, handed to Globex: the policy is checked before any constraint.
            names = columns(table)
            values = [sql.Literal(b) if name == column else sql.Identifier(name) for name in names]
            with connection.cursor() as cur:
                cur.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
                if not cur.fetchone()[0]:
                    continue
                with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
                    cur.execute(sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {} LIMIT 1").format(
                        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, names)),
                        sql.SQL(", ").join(values), sql.Identifier(table)))
                # and an own row cannot be moved over either
                with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
                    cur.execute(sql.SQL("UPDATE {} SET {} = %s").format(sql.Identifier(table), sql.Identifier(column)),
                                [b])
            refused.append(table)
        # the ORM's way in: a row saved with a foreign company
        with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
            Meeting(company=outsider.company, title="Planted").save()
    assert len(refused) >= 10, refused


@pytest.mark.django_db
def test_narrowed_lookups_admit_only_their_own_rows(both, admin, member, outsider):
    with scopes_disabled(user_id=member.user.pk):
        seen = company_counts()
    assert seen["accounts_membership"] == {admin.company.pk: 1}
    assert {table for table, counts in seen.items() if counts} == {"accounts_membership"}
    with scopes_disabled(token_hash="0" * 64):
        assert {table for table, counts in company_counts().items() if counts} == set()


@pytest.mark.django_db
def test_the_full_text_index_lookup_answers_for_the_settings_company_only(admin, outsider):
    """``meetpilot_chunk_text_matches`` runs as the owner (row security would keep the index out of reach)."""
    import numpy as np

    from knowledge.models import Chunk
    from knowledge.services import ChunkInput, chunks_replace

    for company in (admin.company, outsider.company):
        with tenant_scope(company):
            chunks_replace(company=company, source_type="summary", source_id=1,
                           embeddings=np.full((2, 384), 384 ** -0.5, dtype=np.float32),
                           chunks=[ChunkInput(text="The Zebracorn budget.", position=0),
                                   ChunkInput(text="Nothing to see.", position=1)])
    with scopes_disabled():
        owners = dict(Chunk.objects.filter(text__contains="Zebracorn").values_list("id", "company_id"))
    assert sorted(owners.values()) == sorted([admin.company.pk, outsider.company.pk])

    def matches() -> set[int]:
        with connection.cursor() as cur:
            cur.execute("SELECT meetpilot_chunk_text_matches(to_tsquery('english', 'zebracorn'))")
            return {chunk_id for (chunk_id,) in cur.fetchall()}

    with tenant_scope(None):
        assert matches() == set()
    for company in (admin.company, outsider.company):
        with tenant_scope(company):
            assert matches() == {cid for cid, owner in owners.items() if owner == company.pk}


@pytest.mark.django_db
def test_a_setting_undone_by_a_rollback_is_sent_again(admin, outsider):
    """PostgreSQL reverts a setting made inside a savepoint that rolls back; the next query must not miss it."""
    a, b = str(admin.company.pk), str(outsider.company.pk)
    with tenant_scope(admin.company):
        assert setting()[0] == a
        savepoint = transaction.savepoint()
        with tenant_scope(outsider.company):
            assert setting()[0] == b  # sent inside the savepoint
            transaction.savepoint_rollback(savepoint)  # PostgreSQL is back at Acme's value
            assert setting()[0] == b  # so Globex's is sent again
        assert setting()[0] == a


@pytest.mark.django_db(transaction=True)
def test_a_setting_made_in_a_rolled_back_transaction_is_sent_again(admin, outsider):
    with tenant_scope(outsider.company):
        with pytest.raises(RuntimeError), transaction.atomic():
            assert setting()[0] == str(outsider.company.pk)
            raise RuntimeError
        assert setting()[0] == str(outsider.company.pk)
        assert company_counts()["accounts_membership"] == {outsider.company.pk: 1}


@pytest.mark.django_db(transaction=True)
def test_a_setting_made_in_a_committed_transaction_is_not_sent_again(admin, outsider, monkeypatch):
    """The session keeps it after the commit: transactions that follow in the same scope (a live caption each)
    do not send it again; one that rolls back still makes the next send it."""
    sent = []
    execute = psycopg.Connection.execute

    def spy(self, query, params=None, **kwargs):
        if query == rls._SET:
            sent.append(params[0])
        return execute(self, query, params, **kwargs)

    monkeypatch.setattr(psycopg.Connection, "execute", spy)
    connection.close()  # the next session's first setting is made inside a transaction
    for _ in range(3):
        with tenant_scope(outsider.company), transaction.atomic():
            assert setting()[0] == str(outsider.company.pk)
    assert sent == [str(outsider.company.pk)]
    with tenant_scope(outsider.company):
        with pytest.raises(RuntimeError), transaction.atomic():
            with tenant_scope(admin.company):
                assert setting()[0] == str(admin.company.pk)
            raise RuntimeError
        with transaction.atomic():
            assert setting()[0] == str(outsider.company.pk)
        assert company_counts()["accounts_membership"] == {outsider.company.pk: 1}
    assert sent == [str(outsider.company.pk), str(admin.company.pk), str(outsider.company.pk)]


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_setting_is_sent_again_after_an_empty_transaction(admin, outsider):
    """A rollback undoes the setting; an atomic block that runs no statement commits nothing and must not make
    the wrapper believe the session holds it."""
    with tenant_scope(outsider.company), transaction.atomic():
        assert setting()[0] == str(outsider.company.pk)  # the session now holds the outsider's company
    with tenant_scope(admin.company):
        with pytest.raises(RuntimeError), transaction.atomic():
            assert setting()[0] == str(admin.company.pk)
            raise RuntimeError  # rolled back: the session holds the outsider's company again
        with transaction.atomic():
            pass  # commits with no transaction open
        assert setting()[0] == str(admin.company.pk)
        assert company_counts()["accounts_membership"] == {admin.company.pk: 1}

# --- every place that switches the scope on runs its queries with the setting -----------------------------


def rls_probe_view(request):
    """Raw SQL in a view: which companies' rows can this request's connection see?"""
    with connection.cursor() as cur:
        cur.execute("SELECT current_setting('app.company_id', true)")
        value = cur.fetchone()[0]
    seen = sorted({company for counts in company_counts().values() for company in counts})
    return JsonResponse({"setting": value, "companies": seen})


@pytest.fixture
def probe_url(settings):
    from django.urls import clear_url_caches, path

    import meetpilot.urls

    settings.ROOT_URLCONF = type("ProbeUrls", (), {
        "urlpatterns": [path("rls-probe/", rls_probe_view), *meetpilot.urls.urlpatterns]})
    clear_url_caches()
    yield "/rls-probe/"
    clear_url_caches()


@pytest.mark.django_db
def test_the_middleware_runs_the_view_with_the_callers_company(both, admin, outsider, probe_url):
    assert admin.api().get(probe_url).json() == {"setting": str(admin.company.pk), "companies": [admin.company.pk]}
    assert outsider.browser().get(probe_url).json() == {
        "setting": str(outsider.company.pk), "companies": [outsider.company.pk]}
    assert Client().get(probe_url).json() == {"setting": "", "companies": []}  # nobody signed in


@app.task(bind=True, base=TenantTask, name="tests.security.rls_probe")
def rls_probe_task(self, *, company_id=None):
    with connection.cursor() as cur:
        cur.execute("SELECT current_setting('app.company_id', true), current_user")
        value, role = cur.fetchone()
    seen = sorted({company for counts in company_counts().values() for company in counts})
    return {"setting": value, "role": role, "companies": seen}


@pytest.mark.django_db(transaction=True)
def test_a_tenant_task_on_the_real_worker_runs_with_its_company(both, admin, outsider, celery_worker):
    got = rls_probe_task.delay(company_id=outsider.company.pk).get(timeout=30)
    assert got == {"setting": str(outsider.company.pk), "role": settings.DATABASE_APP_ROLE,
                   "companies": [outsider.company.pk]}
    got = rls_probe_task.delay().get(timeout=30)  # no company_id: no rows at all
    assert got == {"setting": "", "role": settings.DATABASE_APP_ROLE, "companies": []}


class SettingSpy:
    """Records, after each query on a meetings table, what the connection's company setting was."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    def __call__(self, execute, sql_text, params, many, context):
        result = execute(sql_text, params, many, context)
        if isinstance(sql_text, str) and '"meetings_' in sql_text:
            row = context["connection"].connection.execute(
                "SELECT current_setting('app.company_id', true), current_user").fetchone()
            with self.lock:
                self.seen.append(row)
        return result

    def install(self, sender, connection, **kwargs):
        if self not in connection.execute_wrappers:
            connection.execute_wrappers.append(self)


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_the_consumer_runs_its_queries_with_the_sockets_company(both, admin):
    from asgiref.sync import sync_to_async

    from meetings.live.pipeline import runners_wait_idle
    from tests.meetings.live_helpers import caption_frame, close_thread_connections, communicator, hello, receive_until

    def activate() -> Meeting:
        with tenant_scope(admin.company):
            Meeting.objects.update(status=Meeting.Status.ACTIVE)
            return Meeting.objects.get()

    meeting = await sync_to_async(activate)()
    await close_thread_connections()  # the socket's threads open fresh connections, which the spy wraps
    spy = SettingSpy()
    connection_created.connect(spy.install)
    try:
        comm = communicator(meeting.pk, token=admin.token)
        connected, detail = await comm.connect(timeout=10)
        assert connected, detail
        await hello(comm)
        await comm.send_json_to(caption_frame(1, "We agreed to ship on Friday."))
        await receive_until(comm, lambda f: f["type"] == "ack")
        await comm.disconnect()
        await sync_to_async(runners_wait_idle, thread_sensitive=False)(timeout=20)
    finally:
        connection_created.disconnect(spy.install)
        await close_thread_connections()
    assert len(spy.seen) >= 3
    assert set(spy.seen) == {(str(admin.company.pk), settings.DATABASE_APP_ROLE)}


# --- code outside every scope, as production runs it ----------------------------------------------------


@pytest.fixture
def production_ambient():
    """Outside every scope, no tenant row (tests/conftest.py otherwise lets test code act as maintenance)."""
    before = rls._ambient_maintenance
    rls.ambient_maintenance_set(False)
    yield
    rls.ambient_maintenance_set(before)


@pytest.mark.django_db
def test_seed_demo_creates_and_repairs_the_demo_company_under_row_level_security(production_ambient):
    import io

    from django.core.management import call_command

    from accounts.models import Membership, Role

    call_command("seed_demo", stdout=io.StringIO())
    with tenant_scope(None):
        assert company_counts()["accounts_membership"] == {}  # this code sees nothing by itself
    company = Company.objects.get(email_domain="demo.meetpilot.local")
    with tenant_scope(company):
        Membership.objects.update(role=Role.MEMBER)
    call_command("seed_demo", stdout=io.StringIO())  # repairs the admin's role from outside any scope
    with tenant_scope(company):
        assert Membership.objects.get().role == Role.ADMIN
