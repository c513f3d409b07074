"""Tenancy that fails closed.

Every tenant-owned model inherits ``TenantModel``: it carries a ``company`` FK and
its default manager refuses to run a query unless a tenant scope is active, and
then only sees that company's rows.

Where the scope is switched on (``tenant_scope(company)``), and nowhere else
(``tests/architecture/test_tenant_scope.py`` keeps this list true):

- ``accounts/middleware.py``: ``TenantMiddleware``, once per HTTP request;
- ``accounts/tenancy.py``: ``TenantTask``, once per Celery task (its ``company_id`` argument);
- ``meetings/consumers.py``: per WebSocket connection, after the socket's principal is known;
- ``meetings/live/runner.py``: the live analysis job runner (the in-process analogue of ``TenantTask``);
- ``ai/sse.py``: streamed responses, which are iterated after the middleware has returned;
- ``workflows/hooks.py``: inbound Jira/Linear webhooks, once the verified path has named the company;
- ``integrations/webhooks/receivers.py``, ``workflows/receivers.py``: company event receivers, which run at commit,
  when the publisher's scope may have closed (the event names its company).

Documented bypasses, which may also call ``tenant_scope``: management commands
(``*/management/commands/*``), demo seeding (``meetings/demo.py``, ``knowledge/demo.py``: the
``seed_demo`` command's receivers seed one named company), ``bench/`` and ``eval/`` scripts, and ``tests/``.

Services never open a scope for the company they are handed: they take ``company`` first,
assert that the rows they were given belong to it (``assert thing.company_id == company.pk``) and
read through ``Model.objects.for_company(company)`` inside the caller's scope.

Code that must look across companies says so with ``scopes_disabled()``, in these places only:
token lookup (``accounts/auth.py``), a user's memberships (``accounts/auth.py``,
``accounts/selectors.py``), joining a company before any scope exists (``accounts/services.py``:
``membership_add``, invitation links), and maintenance over every company
(``knowledge/services.py``: ``chunks_reembed``), the live analysis sweep listing the ids of meetings
whose owed analysis no process holds (``meetings/live/backlog.py``: ``meetings_lagging``; each meeting is
then analysed in its own company's scope), besides the bypass places above.

``full_clean()`` on a tenant row checks uniqueness among its own company's rows, so a service
validates the same way inside and outside a request.

The database keeps the same wall a second time (``accounts/rls.py``): every tenant table has
row-level security keyed by the connection's ``app.company_id``, which follows ``tenant_scope`` on
every query (``database_scope()``). A ``scopes_disabled()`` block in the product names what it looks
for (``user_id=`` for a person's memberships, ``token_hash=`` for a token or an invitation link) and
the database admits only those rows; only maintenance (``chunks_reembed``) and the bypass places use
the unnarrowed form, which runs as the maintenance role (``tests/architecture/test_tenant_scope.py``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from celery import Task
from django.db import models

if TYPE_CHECKING:
    from accounts.models import Company

_company_id: ContextVar[int | None] = ContextVar("tenant_company_id", default=None)
_disabled: ContextVar[bool] = ContextVar("tenant_scopes_disabled", default=False)
# Whether any tenant_scope() is active in this context (even one of no company): the database setting
# follows it. Outside every scope ("ambient" code: management commands, scripts, tests) see rls.py.
_entered: ContextVar[bool] = ContextVar("tenant_scope_entered", default=False)
# What a scopes_disabled() block narrows the database side to: (user id, token hash), or None for
# every company (the maintenance role).
_narrowed: ContextVar[tuple[int | None, str | None] | None] = ContextVar("tenant_scopes_narrowed", default=None)


class TenantScopeError(RuntimeError):
    """A tenant-owned model was queried with no company in scope."""


@contextlib.contextmanager
def tenant_scope(company: Company | int | None) -> Iterator[None]:
    """Run the block as ``company``: tenant querysets only see its rows."""
    company_id = company if isinstance(company, int) or company is None else company.pk
    token = _company_id.set(company_id)
    disabled_token = _disabled.set(False)
    entered_token = _entered.set(True)
    try:
        yield
    finally:
        _entered.reset(entered_token)
        _disabled.reset(disabled_token)
        _company_id.reset(token)


@contextlib.contextmanager
def scopes_disabled(*, user_id: int | None = None, token_hash: str | None = None) -> Iterator[None]:
    """Look across companies. Keep these blocks few, short and obvious.

    The ORM stops filtering by company. The database (row-level security, ``accounts/rls.py``)
    follows what the block says it is for: ``user_id`` admits that person's memberships,
    ``token_hash`` the API token or invitation with that hash, and nothing else of any company.
    Without either the block runs as the maintenance role and sees every company: only
    maintenance (``chunks_reembed``) and the bypass places may do that.
    """
    narrowed = (user_id, token_hash) if user_id is not None or token_hash is not None else None
    token = _disabled.set(True)
    narrowed_token = _narrowed.set(narrowed)
    try:
        yield
    finally:
        _narrowed.reset(narrowed_token)
        _disabled.reset(token)


def current_company_id() -> int | None:
    return _company_id.get()


@dataclass(frozen=True)
class DatabaseScope:
    """What the database is told about the current scope (``accounts/rls.py`` applies it).

    ``ambient`` is true outside every ``tenant_scope`` and ``scopes_disabled`` block;
    ``maintenance`` inside an unnarrowed ``scopes_disabled()``.
    """

    company_id: int | None = None
    user_id: int | None = None
    token_hash: str | None = None
    maintenance: bool = False
    ambient: bool = False


def scope_key() -> tuple[bool, tuple[int | None, str | None] | None, bool, int | None]:
    """A cheap value that changes whenever ``database_scope()`` may (compared before every query)."""
    return _disabled.get(), _narrowed.get(), _entered.get(), _company_id.get()


def database_scope() -> DatabaseScope:
    if _disabled.get():
        narrowed = _narrowed.get()
        if narrowed is None:
            return DatabaseScope(maintenance=True)
        return DatabaseScope(user_id=narrowed[0], token_hash=narrowed[1])
    if not _entered.get():
        return DatabaseScope(ambient=True)
    return DatabaseScope(company_id=_company_id.get())


class TenantQuerySet(models.QuerySet):
    def for_company(self, company: Company | int) -> TenantQuerySet:
        company_id = company if isinstance(company, int) else company.pk
        return self.filter(company_id=company_id)


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):  # type: ignore[misc]
    def get_queryset(self) -> TenantQuerySet:
        queryset = super().get_queryset()
        if _disabled.get():
            return queryset
        company_id = _company_id.get()
        if company_id is None:
            raise TenantScopeError(
                f"{self.model.__name__} queried outside a tenant scope; "
                "use tenant_scope(company) or, deliberately, scopes_disabled()"
            )
        return queryset.filter(company_id=company_id)


@contextlib.contextmanager
def _own_company(row: models.Model) -> Iterator[None]:
    # Uniqueness checks ask the default manager whether a clashing row exists; they look among
    # the row's own company (or everywhere under scopes_disabled()), whichever scope the caller has.
    company_id = getattr(row, "company_id", None)
    if _disabled.get() or company_id is None:
        yield
        return
    token = _company_id.set(company_id)
    entered_token = _entered.set(True)
    try:
        yield
    finally:
        _entered.reset(entered_token)
        _company_id.reset(token)


class TenantModel(models.Model):
    company = models.ForeignKey("accounts.Company", on_delete=models.CASCADE, related_name="+")

    objects = TenantManager()

    # Forward FK access and cascades use Django's plain base manager: they start from a row
    # that was already reached through a scoped query.
    class Meta:
        abstract = True

    def validate_unique(self, exclude: Any = None) -> None:
        with _own_company(self):
            super().validate_unique(exclude=exclude)

    def validate_constraints(self, exclude: Any = None) -> None:
        with _own_company(self):
            super().validate_constraints(exclude=exclude)


def is_tenant_model(model: type[models.Model]) -> bool:
    return isinstance(model._default_manager, TenantManager)


class TenantTask(Task):
    """Celery base task: runs in the scope of the ``company_id`` keyword argument.

    Tasks take ids, not objects (JSON serialiser); a task without ``company_id``
    runs unscoped and any tenant query in it raises.
    """

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with tenant_scope(kwargs.get("company_id")):
            return super().__call__(*args, **kwargs)
