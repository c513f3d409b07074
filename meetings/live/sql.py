"""The live path's hot statements: prepared on the server, several writes sent as one statement.

Django's cursors bind parameters on the client, so PostgreSQL parses and plans every caption's
statements again. ``prepared_cursor`` gives a cursor on the same connection (same transaction, same
execute wrappers: row-level security's settings, query capture in tests) that binds on the server
and prepares each statement on first use: later executions on that connection skip parse and plan.
A prepared plan reads ``current_setting`` when it runs, so row-level security holds as before.
``LIVE_PREPARED_STATEMENTS`` off: bound on the server, not prepared (a pooler that cannot keep
prepared statements, such as PgBouncer before 1.22 in transaction mode). Nothing is prepared on a
connection closed after each job (``CONN_MAX_AGE=0``, the default): it would never be used again.

Parameters bound on the server carry types: a JSON value goes as ``Jsonb`` (a field's
``get_db_prep_save`` gives one) and a parameter whose type the statement does not fix needs a cast.

``Writes`` chains data-modifying statements as the parts of one ``WITH``: PostgreSQL runs every part
once, to completion, in one round trip.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from django.conf import settings
from django.db import connection as default_connection
from django.db.backends.postgresql.psycopg_any import register_tzloader
from psycopg.pq import Format

TIMESTAMPTZ_OID = 1184


class _PreparingCursor(psycopg.Cursor):
    """Binds on the server and, where ``prepares``, prepares every statement it runs (the live path's few
    statements repeat)."""

    prepares = False

    def execute(self, query: Any, params: Any = None, *, prepare: bool | None = None,
                binary: bool | None = None) -> Any:
        if prepare is None:
            prepare = self.prepares
        return super().execute(query, params, prepare=prepare, binary=binary)

    def _send_query_prepared(self, name: bytes, pgq: Any, *args: Any, **kwargs: Any) -> None:
        # psycopg's own (private) step for a prepared statement: here only to record the query as Django's query
        # log reads it (last_executed_query), as for a statement not yet prepared; any arguments pass through.
        self._query = pgq
        super()._send_query_prepared(name, pgq, *args, **kwargs)


def prepares(connection: Any) -> bool:
    """Prepare only on a connection that outlives the job (``CONN_MAX_AGE`` not 0): one closed after the job
    would never run the statement again, and preparing costs a round trip of its own."""
    return bool(settings.LIVE_PREPARED_STATEMENTS) and connection.settings_dict.get("CONN_MAX_AGE") != 0


@contextmanager
def prepared_cursor(connection: Any = None) -> Iterator[Any]:
    """A Django cursor wrapper (execute wrappers, debug capture) around a preparing cursor of ``connection``."""
    connection = connection or default_connection
    connection.ensure_connection()
    with connection.wrap_database_errors:
        if connection.connection.prepare_threshold is None:
            # Django turns psycopg's preparing off for the connection; its own (client-binding) cursors never
            # prepare, so turning it back on concerns only the cursors made here.
            connection.connection.prepare_threshold = 5
        raw = _PreparingCursor(connection.connection)
        raw.prepares = prepares(connection)
        # As Django's own cursors: a connection whose time zone differs reads timestamps in Django's.
        tzloader = connection.connection.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)
        if connection.timezone != tzloader.timezone:
            register_tzloader(connection.timezone, raw)
    cursor = connection._prepare_cursor(raw)
    try:
        yield cursor
    finally:
        cursor.close()


def fetchone(sql: str, params: Sequence[Any], connection: Any = None) -> tuple | None:
    with prepared_cursor(connection) as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def fetchall(sql: str, params: Sequence[Any], connection: Any = None) -> list[tuple]:
    with prepared_cursor(connection) as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


class Writes:
    """Parts of one statement: ``add`` names each (later parts may read earlier ones' RETURNING), ``run``
    sends them with the final SELECT."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.params: list[Any] = []

    def add(self, name: str, sql: str, params: Sequence[Any] = ()) -> Writes:
        self.parts.append(f"{name} AS ({sql})")
        self.params.extend(params)
        return self

    def run(self, select: str, params: Sequence[Any] = (), connection: Any = None) -> tuple | None:
        return fetchone(f"WITH {', '.join(self.parts)} {select}", [*self.params, *params], connection)


def insert_add(writes: Writes, name: str, *objs: Any, returning: str = "id", suffix: str = "") -> None:
    """Add the INSERT of model instances ``objs`` of one model (every concrete column, the primary key when
    they have one; rows in this order) as ``name``; the fields' own ``pre_save`` and conversions run as in
    ``save``."""
    meta = objs[0]._meta
    fields = [f for f in meta.concrete_fields if not (f.primary_key and objs[0].pk is None)]
    values = [f.get_db_prep_save(f.pre_save(obj, True), default_connection) for obj in objs for f in fields]
    columns = ", ".join(f.column for f in fields)
    rows = ", ".join([f"({', '.join(['%s'] * len(fields))})"] * len(objs))
    writes.add(name, f"INSERT INTO {meta.db_table} ({columns}) VALUES {rows} {suffix} RETURNING {returning}",
               values)


def update_add(writes: Writes, name: str, obj: Any, fields: Sequence[str], *, returning: str = "id") -> None:
    """Add the UPDATE of ``fields`` of saved instance ``obj`` as ``name`` (``pre_save``: auto_now and the like).
    A tenant row is named by its company as well, as a tenant-scoped queryset would."""
    meta = obj._meta
    concrete = [meta.get_field(field) for field in fields]
    values = [f.get_db_prep_save(f.pre_save(obj, False), default_connection) for f in concrete]
    assignments = ", ".join(f"{f.column} = %s" for f in concrete)
    where, params = f"{meta.pk.column} = %s", [obj.pk]
    if getattr(obj, "company_id", None) is not None:
        where, params = where + " AND company_id = %s", [*params, obj.company_id]
    writes.add(name, f"UPDATE {meta.db_table} SET {assignments} WHERE {where} RETURNING {returning}",
               [*values, *params])


def columns(model: Any, alias: str) -> str:
    """Every concrete column of ``model`` under table alias ``alias``, in field order (see ``instance``)."""
    return ", ".join(f"{alias}.{f.column}" for f in model._meta.concrete_fields)


def instance(model: Any, values: Sequence[Any], connection: Any = None) -> Any:
    """A saved ``model`` instance from the values of ``columns(model, ...)``, converted as the ORM converts them."""
    connection = connection or default_connection
    fields = model._meta.concrete_fields
    converted = [f.from_db_value(v, None, connection) if hasattr(f, "from_db_value") else v
                 for f, v in zip(fields, values, strict=True)]
    return model.from_db(connection.alias, [f.attname for f in fields], converted)
