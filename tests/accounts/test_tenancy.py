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


def test_full_clean_checks_uniqueness_among_the_rows_own_company_in_or_out_of_a_scope(company, other_company):
    from django.core.exceptions import ValidationError

    from accounts.models import Role
    from tests import factories

    admin = factories.admin_of(company)
    duplicate = Membership(company=company, user=admin, role=Role.MEMBER)
    with pytest.raises(ValidationError, match="already exists"):
        duplicate.full_clean()
    with tenant_scope(other_company), pytest.raises(ValidationError, match="already exists"):
        duplicate.full_clean()  # another company's scope does not hide the clash
    Membership(company=other_company, user=admin, role=Role.MEMBER).full_clean()  # a second company is fine


def test_services_run_in_their_callers_scope_and_open_none(company, other_company):
    from accounts import services
    from tests import factories

    bob = factories.member_make(company=company, email="bob@acme.test")
    with scopes_disabled():
        membership = Membership.objects.get(company=company, user=bob)
    with pytest.raises(TenantScopeError):  # no request, task or connection switched a scope on
        services.membership_remove(company=company, membership=membership)
    with tenant_scope(company):
        services.membership_remove(company=company, membership=membership)
        assert not Membership.objects.filter(user=bob).exists()


def test_joining_a_company_needs_no_scope_and_is_idempotent(company):
    from accounts import services
    from accounts.models import Role
    from tests import factories

    user = factories.user_make()
    first = services.membership_add(company=company, user=user, role=Role.MANAGER)
    again = services.membership_add(company=company, user=user, role=Role.MEMBER)
    assert first.pk == again.pk and again.role == Role.MANAGER
