"""PostgreSQL row-level security: the second wall behind the ORM's tenant scope.

Every table of a tenant model (``accounts.tenancy.TenantModel``, in any app) gets ``ENABLE`` and
``FORCE ROW LEVEL SECURITY`` and one policy, ``meetpilot_tenant``, for every command (USING and
WITH CHECK): a row is visible and writable only when its ``company_id`` equals the connection's
``app.company_id`` setting. Three tables admit a few more rows for the documented cross-company
lookups, each keyed by a setting that only a narrowed ``scopes_disabled(...)`` block sets:
a person's memberships (``app.user_id``: sign-in, joining a company) and an API token or invitation
by the hash of its secret (``app.token_hash``). The list of tables is derived from the models, so a
new tenant model is covered by the ``post_migrate`` step below (the migration
``accounts/0003_row_level_security`` installed it for the tables that existed then).

Roles (see docs/operations.md):

- the **owner** (``DATABASE_OWNER_URL``; the embedded server's ``postgres``) owns the tables and runs
  migrations (``manage.py migrate`` switches to it, ``accounts/management/commands/migrate.py``);
  it is a superuser or has ``BYPASSRLS``;
- the **app role** (``DATABASE_URL``; embedded: ``meetpilot_app``) is what daphne, Celery and every
  other command connect as: no superuser, no ``BYPASSRLS``, only row privileges (granted here);
- the **maintenance role** (``meetpilot_maintenance``: ``NOLOGIN BYPASSRLS``, granted to the app
  role) is what an unnarrowed ``scopes_disabled()`` block becomes (``SET ROLE``) for maintenance
  over every company (``chunks_reembed``, management commands, tests).

The settings follow the ORM's scope by themselves: a ``connection.execute_wrapper`` installed on
every connection compares, before each query, what the current scope asks for
(``tenancy.database_scope()``, context variables, so it follows async code into worker threads)
with what the connection was last told, and only on a change issues one
``SELECT set_config(...)`` (session level). A value set inside a transaction is reverted by
PostgreSQL when that transaction or savepoint rolls back, so the wrapper forgets what it set there
when the transaction ends without a commit it saw (the connection's ``_commit``, wrapped), on the
connection's rollback (``_rollback``, wrapped) or when a ``ROLLBACK`` statement goes by, and sets it again
before the next query. The settings are the session's: a pooler must keep a client on one server connection
(PgBouncer's session mode); transaction pooling would run one client's statements under another's company.
Session-level rather than ``SET LOCAL``: most queries run in autocommit, where a local setting
would have to be sent again before every statement.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Iterator
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from psycopg import sql
from psycopg.pq import TransactionStatus

from accounts.tenancy import DatabaseScope, database_scope, is_tenant_model, scope_key

logger = logging.getLogger(__name__)

POLICY = "meetpilot_tenant"
COMPANY_SETTING = "app.company_id"
USER_SETTING = "app.user_id"
TOKEN_SETTING = "app.token_hash"

_COMPANY = f"NULLIF(current_setting('{COMPANY_SETTING}', true), '')::bigint"
_USER = f"NULLIF(current_setting('{USER_SETTING}', true), '')::bigint"
_TOKEN = f"NULLIF(current_setting('{TOKEN_SETTING}', true), '')"

# The documented cross-company lookups (accounts/tenancy.py), one permissive policy each: model label ->
# (policy name, column, setting expression). Rows are admitted only while a narrowed
# scopes_disabled(user_id=..., token_hash=...) block has put the key into the setting.
NARROWED_POLICIES: dict[str, list[tuple[str, str, str]]] = {
    "accounts.Membership": [("meetpilot_own_memberships", "user_id", _USER)],
    "accounts.ApiToken": [("meetpilot_token_by_hash", "token_hash", _TOKEN)],
    "accounts.Invitation": [("meetpilot_invitation_by_hash", "token_hash", _TOKEN)],
}

# What code outside every scope (no request, task, connection or scopes_disabled block) gets: no tenant
# row at all. The test suite switches this to the maintenance role for its own bodies and fixtures
# (tests/conftest.py); the product's entry points always enter a scope, so they are unaffected.
_ambient_maintenance = False


def ambient_maintenance_set(enabled: bool) -> None:
    global _ambient_maintenance
    _ambient_maintenance = enabled


# --- which tables -----------------------------------------------------------------------------


def tenant_tables() -> dict[str, str]:
    """``{table: company column}`` for every concrete tenant model, from the model registry."""
    tables = {}
    for model in apps.get_models():
        meta = model._meta
        if meta.proxy or not meta.managed or not is_tenant_model(model):
            continue
        tables[meta.db_table] = meta.get_field("company").column
    return dict(sorted(tables.items()))


def _narrowed_for(table: str) -> list[tuple[str, str, str]]:
    for label, policies in NARROWED_POLICIES.items():
        if apps.get_model(label)._meta.db_table == table:
            return policies
    return []


# --- installing policies and grants (as the owner) ----------------------------------------------


def _force(cursor: Any) -> bool:
    """FORCE binds the tables' owner too. Always, except where the app itself is a plain owner.

    With one role for everything (no DATABASE_OWNER_URL) that is neither superuser nor BYPASSRLS,
    forcing would hide every tenant row from that role's own migrations and maintenance: the
    policies are then enabled but not forced (as before for that role), and a warning says so.
    """
    if settings.DATABASE_OWNER["USER"] != settings.DATABASE_APP_ROLE:
        return True
    cursor.execute("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user")
    if cursor.fetchone()[0]:
        return True
    logger.warning("row-level security is not forced: the application connects as the tables' owner; "
                   "set DATABASE_OWNER_URL and connect as an app role (docs/operations.md)")
    return False


def install(connection: BaseDatabaseWrapper) -> list[str]:
    """Enable, force and add the policies on every tenant table that exists; idempotent. Returns the tables."""
    done = []
    with connection.cursor() as cursor:
        force = _force(cursor)
        for table, column in tenant_tables().items():
            cursor.execute("SELECT c.relrowsecurity, c.relforcerowsecurity FROM pg_class c "
                           "WHERE c.oid = to_regclass(%s)", [table])
            row = cursor.fetchone()
            if row is None:  # a later migration creates it; post_migrate covers it then
                continue
            if not row[0]:
                cursor.execute(sql.SQL("ALTER TABLE {} ENABLE ROW LEVEL SECURITY").format(sql.Identifier(table)))
            if force and not row[1]:
                cursor.execute(sql.SQL("ALTER TABLE {} FORCE ROW LEVEL SECURITY").format(sql.Identifier(table)))
            cursor.execute("SELECT policyname FROM pg_policies WHERE schemaname = current_schema() AND tablename = %s",
                           [table])
            existing = {name for (name,) in cursor.fetchall()}
            wanted = [(POLICY, column, _COMPANY), *_narrowed_for(table)]
            for name, key, expression in wanted:
                if name in existing:
                    continue
                check = sql.SQL("{} = " + expression).format(sql.Identifier(key))
                cursor.execute(sql.SQL("CREATE POLICY {} ON {} FOR ALL USING ({}) WITH CHECK ({})").format(
                    sql.Identifier(name), sql.Identifier(table), check, check))
            done.append(table)
    return done


def uninstall(connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        for table in tenant_tables():
            cursor.execute("SELECT to_regclass(%s)", [table])
            if cursor.fetchone()[0] is None:
                continue
            cursor.execute("SELECT policyname FROM pg_policies WHERE schemaname = current_schema() AND tablename = %s",
                           [table])
            for (name,) in cursor.fetchall():
                if name.startswith("meetpilot_"):
                    cursor.execute(sql.SQL("DROP POLICY {} ON {}").format(sql.Identifier(name), sql.Identifier(table)))
            cursor.execute(sql.SQL("ALTER TABLE {} NO FORCE ROW LEVEL SECURITY").format(sql.Identifier(table)))
            cursor.execute(sql.SQL("ALTER TABLE {} DISABLE ROW LEVEL SECURITY").format(sql.Identifier(table)))


def grant(connection: BaseDatabaseWrapper) -> list[str]:
    """Row privileges on every table and sequence for the app and maintenance roles (those that exist)."""
    wanted = [settings.DATABASE_APP_ROLE, settings.DATABASE_MAINTENANCE_ROLE]
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolname FROM pg_roles WHERE rolname = ANY(%s) AND rolname <> current_user", [wanted])
        roles = sorted(name for (name,) in cursor.fetchall())
        if not roles:
            return []
        names = sql.SQL(", ").join(sql.Identifier(r) for r in roles)
        cursor.execute(sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {}")
                       .format(names))
        cursor.execute(sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {}").format(names))
    return roles


def apply(connection: BaseDatabaseWrapper) -> None:
    install(connection)
    grant(connection)


def connected_as_owner(connection: BaseDatabaseWrapper) -> bool:
    return connection.settings_dict.get("USER") == settings.DATABASE_OWNER["USER"]


def post_migrate_apply(sender: Any, using: str = "default", **kwargs: Any) -> None:
    """After every ``migrate``: policies for tables added since, and grants. Only the owner may do that.

    ``flush`` (transactional tests) sends post_migrate too, over the app role: nothing to do then.
    """
    if sender.label != "accounts":
        return
    connection = connections[using]
    if connection.vendor == "postgresql" and connected_as_owner(connection):
        apply(connection)


@contextlib.contextmanager
def owner_credentials(alias: str = "default") -> Iterator[None]:
    """Connect ``alias`` as the owner role for the block (migrations); the same server and database."""
    connection = connections[alias]
    saved = {key: connection.settings_dict.get(key) for key in ("USER", "PASSWORD")}
    if saved["USER"] == settings.DATABASE_OWNER["USER"]:
        yield
        return
    connection.close()
    connection.settings_dict.update(settings.DATABASE_OWNER)
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.update(saved)


# --- following the scope on every query --------------------------------------------------------


def _wanted(scope: DatabaseScope) -> tuple[str, str, str, str]:
    maintenance = scope.maintenance or (scope.ambient and _ambient_maintenance)
    role = settings.DATABASE_MAINTENANCE_ROLE if maintenance else "none"
    if settings.DATABASE_OWNER["USER"] == settings.DATABASE_APP_ROLE:
        role = "none"  # one role for everything: nothing to switch to
    return (
        "" if scope.company_id is None else str(scope.company_id),
        "" if scope.user_id is None else str(scope.user_id),
        scope.token_hash or "",
        role,
    )


_SET = ("SELECT set_config('app.company_id', %s, false), set_config('app.user_id', %s, false), "
        "set_config('app.token_hash', %s, false), set_config('role', %s, false)")


class _Sent:
    """Per connection: what it was last told, and whether that may still be undone by a rollback."""

    __slots__ = ("in_transaction", "key", "owner", "values")

    def __init__(self, *, owner: bool) -> None:
        self.owner = owner  # the owner's connections (migrate) are not subject to the policies
        self.key: tuple | None = None  # the scope_key() the values were computed for
        self.values: tuple[str, str, str, str] | None = None
        self.in_transaction = False

    def forget(self) -> None:
        self.key = self.values = None


def scope_wrapper(execute: Any, sql_text: Any, params: Any, many: bool, context: dict) -> Any:
    """``connection.execute_wrapper``: tell the connection the current scope when it changed."""
    connection = context["connection"]
    sent = connection.__dict__.get("_rls_sent")
    raw = connection.connection
    if sent is None or sent.owner or raw is None:
        return execute(sql_text, params, many, context)
    status = raw.info.transaction_status
    if sent.in_transaction and status == TransactionStatus.IDLE:
        sent.forget()  # set inside a transaction that has ended since: it may have been rolled back
        sent.in_transaction = False
    if status != TransactionStatus.INERROR:
        key = (scope_key(), _ambient_maintenance)
        if key != sent.key:
            values = _wanted(database_scope())
            if values != sent.values:
                raw.execute(_SET, values)
                sent.values = values
                sent.in_transaction = raw.info.transaction_status != TransactionStatus.IDLE
            sent.key = key
    try:
        return execute(sql_text, params, many, context)
    finally:
        if isinstance(sql_text, str) and sql_text.lstrip()[:8].upper() == "ROLLBACK":
            sent.forget()  # a savepoint rollback undoes what was set after it


def scope_wrapper_install(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    """``connection_created``: a new session knows nothing yet; wrap its queries (once per wrapper object)."""
    if connection.vendor != "postgresql":
        return
    connection.__dict__["_rls_sent"] = _Sent(owner=connected_as_owner(connection))
    if scope_wrapper not in connection.execute_wrappers:
        # First in the list = outermost, and safe from execute_wrapper() blocks that pop() their own.
        connection.execute_wrappers.insert(0, scope_wrapper)
    if "_rls_commit" not in connection.__dict__:
        connection.__dict__["_rls_commit"] = connection._commit
        connection._commit = functools.partial(_commit_seen, connection)
        connection.__dict__["_rls_rollback"] = connection._rollback
        connection._rollback = functools.partial(_rollback_seen, connection)


def _commit_seen(connection: BaseDatabaseWrapper) -> Any:
    """The connection's commit, noting that what was set in the transaction is the session's now: the next
    transaction need not send it again (one round trip per transaction saved, e.g. per live caption).

    Only a transaction that is open and healthy commits what it set: a commit with none open (an atomic block
    that ran no statement, after an earlier one rolled back) or of a failed one says nothing about the session.
    """
    raw, sent = connection.connection, connection.__dict__.get("_rls_sent")
    committing = raw is not None and raw.info.transaction_status == TransactionStatus.INTRANS
    result = connection.__dict__["_rls_commit"]()
    if sent is not None and committing:
        sent.in_transaction = False
    return result


def _rollback_seen(connection: BaseDatabaseWrapper) -> Any:
    """The connection's rollback (Django sends it to the driver, not through the execute wrappers): what was set
    in the transaction is undone, so the next query sends it again."""
    sent = connection.__dict__.get("_rls_sent")
    if sent is not None and sent.in_transaction:
        sent.forget()
    return connection.__dict__["_rls_rollback"]()
