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
- ``ai/sse.py``: streamed responses, which are iterated after the middleware has returned.

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
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from celery import Task
from django.db import models

if TYPE_CHECKING:
    from accounts.models import Company

_company_id: ContextVar[int | None] = ContextVar("tenant_company_id", default=None)
_disabled: ContextVar[bool] = ContextVar("tenant_scopes_disabled", default=False)


class TenantScopeError(RuntimeError):
    """A tenant-owned model was queried with no company in scope."""


@contextlib.contextmanager
def tenant_scope(company: Company | int | None) -> Iterator[None]:
    """Run the block as ``company``: tenant querysets only see its rows."""
    company_id = company if isinstance(company, int) or company is None else company.pk
    token = _company_id.set(company_id)
    disabled_token = _disabled.set(False)
    try:
        yield
    finally:
        _disabled.reset(disabled_token)
        _company_id.reset(token)


@contextlib.contextmanager
def scopes_disabled() -> Iterator[None]:
    """Look across every company. Keep these blocks few, short and obvious."""
    token = _disabled.set(True)
    try:
        yield
    finally:
        _disabled.reset(token)


def current_company_id() -> int | None:
    return _company_id.get()


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
    try:
        yield
    finally:
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
