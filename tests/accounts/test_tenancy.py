import pytest
from django.apps import apps

from accounts.models import ApiToken, Membership
from accounts.tenancy import TenantScopeError, is_tenant_model, scopes_disabled, tenant_scope

pytestmark = pytest.mark.django_db


def _models_with_company_relation():
    for model in apps.get_models():
        for field in model._meta.get_fields():
            related = getattr(field, "related_model", None)
            if field.concrete and related is not None and related._meta.label == "accounts.Company":
                yield model
                break


def test_every_model_with_a_company_is_tenant_scoped():
    found = list(_models_with_company_relation())
    assert Membership in found  # the walk itself works
    unscoped = [m._meta.label for m in found if not is_tenant_model(m)]
    assert unscoped == [], f"models with a company FK but no tenant manager: {unscoped}"


def test_query_outside_a_scope_raises(company):
    with pytest.raises(TenantScopeError):
        list(Membership.objects.all())


def test_scope_shows_only_that_companys_rows(company, other_company):
    with tenant_scope(company):
        assert {m.company_id for m in Membership.objects.all()} == {company.pk}
    with tenant_scope(other_company):
        assert {m.company_id for m in Membership.objects.all()} == {other_company.pk}
    with scopes_disabled():
        assert Membership.objects.count() == 2


def test_scope_is_restored_after_nested_blocks(company, other_company):
    with tenant_scope(company):
        with scopes_disabled():
            assert ApiToken.objects.count() == 0
        with tenant_scope(other_company):
            assert Membership.objects.get().company_id == other_company.pk
        assert Membership.objects.get().company_id == company.pk
